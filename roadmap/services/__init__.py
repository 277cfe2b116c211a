"""The write path of the roadmap app, one module per noun:

- roadmap.services.roadmaps: roadmap versions, their drafting and approval;
- roadmap.services.baselines: baselines and re-baselining proposals, decided by ballots;
- roadmap.services.initiatives: initiatives and the themes they are filed under;
- roadmap.services.milestones: milestones and their dependencies;
- roadmap.services.reports: progress reports and the reminders when one falls due;
- roadmap.services.feeds: each person's secret calendar feed.

Each function checks who may act (roadmap.permissions), validates, writes and appends the
audit event in one transaction. Views, the API, the admin, the ballot hooks (roadmap.ballots)
and tasks call them as `<module>.<act>`; shared reads are in roadmap.selectors.
"""
