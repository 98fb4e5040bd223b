"""Playbook generation: which members each playbook picks on a day (`candidates`), and how the
engine turns them into tasks and messages (`engine`)."""
