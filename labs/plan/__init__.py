"""What a command will do, decided before anything is built: the RunPlan (its lab and its
runs), scenarios read into checked records and their targets, each run's phases from the model."""
