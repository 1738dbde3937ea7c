"""Analysis of a results folder: reads only its files, never a running lab."""
