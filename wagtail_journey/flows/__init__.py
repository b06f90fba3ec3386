"""Automated flows: triggers enrol contacts, steps run once each, goals end them.

- triggers.py: what enrols a contact (a registry; touchpoint-driven ones react
  through the reaction registry, date ones run on a schedule);
- steps.py: what a step does (a registry of step types);
- blocks.py: the StreamField blocks editors build flows with, from both registries;
- plan.py: a flow revision compiled to a graph of steps with stable ids;
- enrol.py: entering and leaving a flow (re-entry policy, eligibility, exits);
- engine.py: claiming due enrollments and running their steps exactly once;
- reactions.py: the deferred reaction (triggers, goals, waits for events, exits).

Nothing here is imported by models; the admin glue lives in admin/flows.py.
"""
