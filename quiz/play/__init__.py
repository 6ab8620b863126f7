"""Play: the rules of a case attempt (the stage engine) and what a learner's answers add up to (progress)."""
