"""Running a study: parameters checked, the run directory (store), the AL loop, the trial grid and its executors."""
