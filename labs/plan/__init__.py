"""What a command will do, decided before anything is built: the RunPlan (its lab and runs), scenarios read into checked records, their targets, and each run's phases from the model."""
