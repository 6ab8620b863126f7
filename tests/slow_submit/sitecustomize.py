"""Put on the app processes' PYTHONPATH by tests/test_class_multiprocess.py: each answer's database
write (quiz.classroom.submit) starts 0-60 ms late, at random, as on the review's loaded machine
(load average 5-33 on 2 cores), where one write could take long enough for a student's next tap.
Only with QUIZ_TEST_SLOW_SUBMIT set; nothing else changes."""
import os

if os.environ.get("QUIZ_TEST_SLOW_SUBMIT"):
    import random
    import sys
    import time

    sys.path.insert(0, os.environ["QUIZ_TEST_SLOW_SUBMIT"])  # the repository
    from quiz import classroom

    _submit = classroom.submit

    def submit(*args, **kwargs):
        time.sleep(random.uniform(0, 0.06))
        return _submit(*args, **kwargs)

    classroom.submit = submit
