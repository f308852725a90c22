"""The demo province: an org tree, a roster, staff grants and a course, for ``diemcau init --demo``."""
