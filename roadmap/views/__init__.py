"""Pages of the roadmap app, one module per noun (as roadmap.services):

- roadmap.views.roadmaps: the timeline, roadmap versions, their ballots, print and CSV;
- roadmap.views.baselines: comparing baselines, proposing and withdrawing a re-baselining;
- roadmap.views.initiatives, roadmap.views.milestones, roadmap.views.reports: those nouns;
- roadmap.views.feeds: the person's calendar feed and the feed itself;
- roadmap.views.common: what every roadmap page shares (who may open it, form writes).

They read through each model's `visible_to` and roadmap.selectors and write through
roadmap.services; program managers edit, everyone in the body reads.
"""
