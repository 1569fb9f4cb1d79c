"""Orchestration: Definitions, resources per profile, jobs, schedules, sensors, and the CLI."""
