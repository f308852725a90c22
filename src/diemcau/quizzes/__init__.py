"""Quizzes end to end: release a spec through nbgrader, grade stored submissions, grade essays, report results.

The steps between the apps (API, CLI, job queue) and the adapters (quiz files, nbgrader, database).
"""
