"""nbgrader as the grading engine and gradebook: course directories, source notebooks, release, autograding.

The API service is the exchange (no shared folder): it stores submissions, and the grading workers write them
into nbgrader's ``submitted/`` layout and grade them with nbgrader's own converters and preprocessors.
"""
