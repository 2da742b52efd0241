"""Many runs: scheduling and locks (`scheduler`), results as tables (`results`) and plots
(`plots`), and the chapter's verdict on them (`chapter`)."""
