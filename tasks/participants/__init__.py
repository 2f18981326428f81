"""Participant flow (issue 5): ladder, readers, measures, goal attainment, indicators, figures."""
