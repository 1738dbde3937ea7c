"""What a run's files become for people: charts, the HTML report, JUnit XML."""
