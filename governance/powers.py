"""Who may do what: every act that changes the body's state, who alone may do it, and which
acts need both sectors or a ballot (DESIGN.md 2.7). Published at /powers/ and /api/powers/.

Each entry names the service function that performs the act (the only write path), so the
table cannot drift from the code unnoticed: tests/test_powers.py fails when a service exists
without an entry, and tries every act that needs both sectors or a ballot as each person alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import models


class Needs(models.TextChoices):
    """What it takes for an act to have its effect."""

    ONE_PERSON = "one_person", "One person may do it alone"
    BOTH_SECTORS = "both_sectors", "Both sectors: a person of each must act"
    BALLOT = "ballot", "A passed ballot of the committee"
    BOOTSTRAP = "bootstrap", "An administrator, only while the committee is being set up"
    SYSTEM = "system", "The portal itself, on a schedule or as a decision's consequence"


@dataclass(frozen=True)
class Power:
    act: str  # the service function, as "module.function"
    does: str  # what the act does, in a sentence
    who: str  # who may do it (or start it)
    needs: str  # a Needs value
    note: str = ""

    def as_dict(self) -> dict:
        return {**asdict(self), "needs_label": Needs(self.needs).label}


ONE, BOTH, BALLOT, BOOT, SYSTEM = (
    Needs.ONE_PERSON,
    Needs.BOTH_SECTORS,
    Needs.BALLOT,
    Needs.BOOTSTRAP,
    Needs.SYSTEM,
)

POWERS: list[Power] = [
    # --- People and organizations -----------------------------------------------------------
    Power("governance.services.people.create_user", "Create an account", "an administrator", ONE, "Audited."),
    Power("governance.services.people.update_user", "Change an account", "the person, or an administrator", ONE),
    Power("governance.services.people.grant_role", "Give a portal role", "an administrator", ONE, "Audited."),
    Power("governance.services.people.revoke_role", "Take a portal role away", "an administrator", ONE),
    Power(
        "governance.services.people.sync_committee_roles",
        "Bring a person's roles in line with their seats",
        "the portal, after a seat change",
        SYSTEM,
    ),
    Power("governance.services.people.create_organization", "Admit an organization", "an administrator", ONE),
    Power(
        "governance.services.people.update_organization",
        "Change an organization's details",
        "an administrator",
        ONE,
        "Its sector is fixed once it holds a seat.",
    ),
    Power(
        "governance.services.people.set_signatories",
        "Record who signs data use agreements for an organization",
        "an administrator, as the organization asks",
        ONE,
        "Audited; only the organization's own people.",
    ),
    Power("governance.services.people.create_committee", "Create a committee", "an administrator", ONE),
    Power(
        "governance.services.people.update_committee",
        "Change a committee's voting rules",
        "an administrator",
        BOOT,
        "Its name and description: its co-chairs and secretary. Once constituted, the rules are fixed; "
        "they include what the public pages say about named votes (roll call after close, or per-sector "
        "counts only), so no one sector or person changes what the public sees.",
    ),
    # --- Seats ---------------------------------------------------------------------------------
    Power("governance.services.seats.add_membership", "Seat a member directly", "an administrator", BOOT),
    Power("governance.services.seats.update_membership", "Change a seat directly", "an administrator", BOOT),
    Power("governance.services.seats.end_membership", "End a term directly", "an administrator", BOOT),
    Power(
        "governance.services.seats.mark_constituted",
        "Record that a committee has acted as constituted",
        "the portal, at the committee's first ballot or signature",
        SYSTEM,
    ),
    Power(
        "governance.services.seats.propose_membership_change",
        "Propose a seat change",
        "a co-chair or the secretary",
        ONE,
        "A proposal changes nothing until it is consented to.",
    ),
    Power(
        "governance.services.seats.consent_to_membership_change",
        "Seat, unseat or change the role of a member of a constituted committee",
        "the co-chair of every sector but the proposer's (both co-chairs for the secretary's proposal)",
        BOTH,
    ),
    Power(
        "governance.services.seats.withdraw_membership_change",
        "Withdraw a proposed seat change",
        "its proposer, or a co-chair",
        ONE,
    ),
    # --- Ballots -----------------------------------------------------------------------------------
    Power(
        "governance.services.ballots.create_ballot",
        "Draft a ballot",
        "a co-chair or the secretary",
        ONE,
        "Never weaker than the committee's method and quorum; only on the committee's own subjects.",
    ),
    Power("governance.services.ballots.update_ballot", "Change a draft ballot", "a co-chair or the secretary", ONE),
    Power(
        "governance.services.ballots.start_second_ballot",
        "Draft a second ballot after a deadlock",
        "a co-chair or the secretary",
        ONE,
    ),
    Power(
        "governance.services.ballots.open_ballot",
        "Open a ballot",
        "a co-chair",
        ONE,
        "Opening decides nothing: it freezes the roll and the rules, for at least the minimum voting period.",
    ),
    Power(
        "governance.services.voting.cast_vote",
        "Vote, with an optional reason",
        "each eligible member, for themselves, or the substitute they named, in their seat",
        ONE,
        "The reason is shown in the roll call and the minutes. One vote per seat, by the database; while a "
        "substitute is named the member does not vote, and a seat's vote is changed only by whoever cast it.",
    ),
    Power(
        "governance.services.voting.remind_voters",
        "Remind the members who have not voted yet",
        "one co-chair of the ballot's committee",
        ONE,
        "A reminder decides nothing and changes no record but the audit log; at most once an hour per ballot.",
    ),
    Power("governance.services.voting.declare_conflict", "Declare a conflict", "each member, for themselves", ONE),
    Power(
        "governance.services.substitutes.name_substitute",
        "Send a substitute to vote in one's seat (one ballot, one meeting or a period)",
        "each voting member, for their own seat only",
        ONE,
        "It decides nothing and keeps the sector's weight: the substitute is of an organization of the same "
        "sector and votes in the seat, never beside it, so the sector never casts more votes than it has seats. "
        "No co-chair, secretary or administrator names a substitute for someone else. The sector's co-chair is "
        "told; recusal applies to the substitute's organization too. Audited.",
    ),
    Power(
        "governance.services.substitutes.withdraw_substitution",
        "Withdraw one's substitute",
        "the member who named them",
        ONE,
        "Only before the substitute has voted under it. Audited.",
    ),
    Power(
        "governance.services.ballots.close_ballot",
        "Close a ballot before its closing time",
        "the co-chair of every sector",
        BOTH,
        "A co-chair closes alone once everyone eligible has voted or the closing time has passed.",
    ),
    Power(
        "governance.services.ballots.close_due_ballots",
        "Close the ballots whose closing time has come",
        "the portal (beat)",
        SYSTEM,
    ),
    # --- Meetings and SOPs -----------------------------------------------------------------------
    Power("governance.services.meetings.schedule_meeting", "Schedule a meeting", "a co-chair or the secretary", ONE),
    Power("governance.services.meetings.update_meeting", "Change a meeting", "a co-chair or the secretary", ONE),
    Power(
        "governance.services.meetings.set_meeting_status",
        "Mark a meeting held or cancelled",
        "a co-chair or the secretary",
        ONE,
    ),
    Power("governance.services.meetings.add_agenda_item", "Add an agenda item", "a co-chair or the secretary", ONE),
    Power("governance.services.meetings.record_attendance", "Record attendance", "a co-chair or the secretary", ONE),
    Power("governance.services.meetings.draft_minutes", "Draft the minutes", "a co-chair or the secretary", ONE),
    Power(
        "governance.services.meetings.approve_minutes",
        "Approve the minutes",
        "a co-chair",
        ONE,
        "The minutes record closed ballots, whose tallies are frozen and in the log.",
    ),
    Power(
        "governance.services.meetings.archive_minutes_pdf",
        "Make and archive the PDF of approved minutes, recording its SHA-256",
        "the portal, once the approval commits",
        SYSTEM,
        "Made once; the same record renders the same bytes.",
    ),
    Power(
        "governance.services.invitations.reply_to_invitation",
        "Answer a meeting's invitation (will attend, might, will not)",
        "the invited person, for themselves only",
        ONE,
        "Their intention; the attendance in the minutes is recorded by the secretary.",
    ),
    Power("governance.services.invitations.issue_meeting_feed", "Get a private meeting feed", "the person", ONE),
    Power("governance.services.invitations.revoke_meeting_feed", "Revoke one's meeting feed", "the person", ONE),
    Power("governance.services.sops.create_sop", "Draft a procedure", "a co-chair or the secretary", ONE),
    Power("governance.services.sops.draft_sop_version", "Draft a new version", "a co-chair or the secretary", ONE),
    Power("governance.services.sops.update_sop_version", "Edit a draft version", "a co-chair or the secretary", ONE),
    Power(
        "governance.services.sops.put_sop_version_to_ballot",
        "Put a version to a ballot",
        "a co-chair or the secretary",
        ONE,
    ),
    Power("governance.services.sops.adopt_sop_version", "Adopt a procedure", "the committee", BALLOT),
    Power("governance.services.sops.reject_sop_version", "Reject a procedure", "the committee", BALLOT),
    # --- Ways in -----------------------------------------------------------------------------------
    Power(
        "governance.services.tokens.issue_token",
        "Get an API token",
        "the person, with their password and, if enrolled, their two-factor code",
        ONE,
    ),
    Power("governance.services.tokens.revoke_token", "Revoke an API token", "its holder, or an administrator", ONE),
    Power(
        "governance.services.tokens.sign_out_everywhere",
        "End every session and token of a person",
        "the person, or an administrator",
        ONE,
    ),
    Power(
        "governance.services.tokens.password_changed",
        "Change one's password",
        "the person (with the old password)",
        ONE,
        "Revokes their API tokens.",
    ),
    # --- Single sign-on (identity) --------------------------------------------------------------------
    # One administrator may map an identity provider: a mapping gives an organization and the
    # portal roles no seat carries (program manager, staff, auditor), as grant_role does, and
    # never a seat, so DESIGN.md 2.7 (seats only with both co-chairs or a ballot) is untouched.
    Power(
        "identity.services.identities.set_mapping",
        "Map an identity provider's organization and role claims to an organization and portal roles",
        "an administrator",
        ONE,
        "Audited. Never seats anyone: only roles no seat carries.",
    ),
    Power(
        "identity.services.identities.remove_mapping",
        "Forget an identity provider mapping",
        "an administrator",
        ONE,
        "Audited; its people are refused and their sessions and tokens revoked at their next sign-in.",
    ),
    Power(
        "identity.services.identities.sign_in",
        "Make or update a person and their portal roles from their identity provider's claims",
        "the portal, when a mapped identity provider signs the person in",
        SYSTEM,
        "Never creates or changes a seat.",
    ),
    Power(
        "identity.services.identities.link_identity",
        "Tie an existing account to its person's identity at a provider",
        "an administrator",
        ONE,
        "Audited; as an administrator's password reset would, it changes how the person signs in, not who sits.",
    ),
    Power(
        "identity.services.identities.deprovision",
        "Take a person's access away: end every session, revoke every API token",
        "an administrator, or the portal when the identity provider no longer vouches for the person",
        ONE,
        "Audited.",
    ),
    # --- Charters ----------------------------------------------------------------------------------
    Power("charters.services.charters.create_charter", "Draft a charter", "staff of a member organization", ONE),
    Power("charters.services.charters.update_charter", "Edit a draft charter", "its author or lead organization", ONE),
    Power("charters.services.lifecycle.submit", "Submit a charter", "its author or lead organization", ONE),
    Power("charters.services.lifecycle.start_review", "Start a charter's review", "the secretary", ONE),
    Power("charters.services.lifecycle.approve", "Approve a charter", "the committee", BALLOT),
    Power("charters.services.lifecycle.reject", "Reject a charter", "the committee", BALLOT),
    Power(
        "charters.services.lifecycle.request_revision",
        "Send a charter back for revision",
        "a co-chair or the secretary",
        ONE,
        "Not while a ballot on it is open.",
    ),
    Power(
        "charters.services.lifecycle.activate",
        "Start an approved charter's work",
        "its lead organization, or a co-chair",
        ONE,
        "Once its data contract is in force.",
    ),
    Power(
        "charters.services.lifecycle.suspend",
        "Suspend a charter",
        "the co-chair of every sector; the portal when an agreement expires",
        BOTH,
        "One co-chair's request waits for the other's. Not while a ballot on it is open.",
    ),
    Power(
        "charters.services.lifecycle.resume",
        "Resume a suspended charter",
        "the co-chair of every sector",
        BOTH,
        "Once its data contract is in force.",
    ),
    Power(
        "charters.services.lifecycle.withdraw_step_consent",
        "Withdraw one's request to suspend, resume or terminate a charter",
        "the co-chair who asked",
        ONE,
        "Takes back a request; changes nothing else.",
    ),
    Power(
        "charters.services.lifecycle.complete",
        "Complete a charter",
        "its lead organization, or a co-chair",
        ONE,
        "Not while a ballot on it is open; never by a member recused from that ballot.",
    ),
    Power(
        "charters.services.lifecycle.terminate",
        "Terminate a charter",
        "the co-chair of every sector",
        BOTH,
        "One co-chair's request waits for the other's. Not while a ballot on it is open.",
    ),
    Power(
        "charters.services.lifecycle.apply_ballot_outcome",
        "Apply a ballot's outcome to its charter",
        "the portal, as the ballot closes",
        SYSTEM,
    ),
    Power("charters.services.amendments.propose_amendment", "Propose an amendment", "its author or lead", ONE),
    Power("charters.services.amendments.withdraw_amendment", "Withdraw an amendment", "its author or lead", ONE),
    Power("charters.services.amendments.approve_amendment", "Bring an amendment into force", "the committee", BALLOT),
    Power("charters.services.amendments.reject_amendment", "Refuse an amendment", "the committee", BALLOT),
    Power(
        "charters.services.reviews.record_review",
        "Record a technical review",
        "a committee member from an organization not party to the charter",
        ONE,
    ),
    Power("charters.services.agreements.create_dataset", "List a dataset", "its steward's staff", ONE),
    Power("charters.services.agreements.update_dataset", "Change a dataset", "its steward's staff", ONE),
    Power("charters.services.agreements.create_agreement", "Draft a data use agreement", "staff of a party", ONE),
    Power("charters.services.agreements.update_agreement", "Change an agreement", "its author or a party", ONE),
    Power(
        "charters.services.agreements.sign_agreement",
        "Sign a data use agreement for an organization",
        "a signatory that organization has named",
        ONE,
        "The agreement binds only once every party has signed.",
    ),
    Power("charters.services.agreements.renew_agreement", "Renew an agreement", "its author or a party", ONE),
    Power(
        "charters.services.agreements.flag_expired_agreements",
        "Suspend charters whose agreements expired",
        "the portal (beat)",
        SYSTEM,
    ),
    Power("charters.services.provenance.register_model", "Register a model", "the charter's parties", ONE),
    Power("charters.services.provenance.update_model_card", "Update a model card", "the charter's parties", ONE),
    # --- Compute: resources, pools, requests, the ledger --------------------------------------------
    Power("compute.services.credits.resources.create_resource", "Register a resource", "an administrator", ONE),
    Power("compute.services.credits.resources.update_resource", "Change a resource", "an administrator", ONE),
    Power(
        "compute.services.credits.resources.set_rate",
        "Set a resource's credit rate from a date",
        "an administrator",
        ONE,
        "Rates are append-only; past usage keeps its rate.",
    ),
    Power("compute.services.credits.pools.create_pool", "Open a credit pool", "a co-chair or the secretary", ONE),
    Power("compute.services.credits.pools.update_pool", "Change a pool", "a co-chair or the secretary", ONE),
    Power(
        "compute.services.credits.pools.open_account",
        "Open a charter's credit account",
        "the portal, when a charter is approved",
        SYSTEM,
    ),
    Power("compute.services.credits.pools.expire_pool", "Return an ended pool's credits", "the portal", SYSTEM),
    Power("compute.services.credits.pools.expire_pools", "Expire every ended pool", "the portal (beat)", SYSTEM),
    Power(
        "compute.services.credits.requests.create_request",
        "Request credits",
        "people of the charter's organizations",
        ONE,
    ),
    Power("compute.services.credits.requests.update_request", "Change a draft request", "its requester", ONE),
    Power("compute.services.credits.requests.submit_request", "Submit a request", "its requester", ONE),
    Power("compute.services.credits.requests.withdraw_request", "Withdraw a request", "its requester", ONE),
    Power(
        "compute.services.credits.requests.sign_request",
        "Award credits by dual control",
        "the co-chair of every sector, neither the requester nor of an organization party to the charter",
        BOTH,
        "Counted per charter and pool: above the limit, or with a co-chair party to it, only a ballot awards.",
    ),
    Power(
        "compute.services.credits.requests.reject_request",
        "Turn down a request at or below the limit",
        "a co-chair",
        ONE,
        "Refusing moves no credits.",
    ),
    Power(
        "compute.services.credits.requests.approve_by_ballot",
        "Award credits above the dual-control limit",
        "the committee",
        BALLOT,
    ),
    Power(
        "compute.services.credits.transfers.propose_transfer",
        "Propose moving credits between charters",
        "the lead of the giving charter",
        ONE,
    ),
    Power(
        "compute.services.credits.transfers.consent_transfer",
        "Move credits between two charters",
        "the lead of each charter",
        ONE,
        "Both sides consent; when one organization leads both charters, its people alone consent.",
    ),
    Power("compute.services.credits.transfers.decline_transfer", "Decline a transfer", "either lead", ONE),
    Power(
        "compute.services.credits.refunds.request_refund",
        "Ask for a refund of usage after a fault",
        "the charter's organizations or a co-chair",
        ONE,
        "Names hours of usage (or whole debits) of the last seven days; asking moves nothing.",
    ),
    Power(
        "compute.services.credits.refunds.decide_refund",
        "Give back refunded hours of usage (a partial reversal of their debits)",
        "the co-chair of every sector",
        BOTH,
        "One co-chair may turn a refund down; nothing moves then.",
    ),
    Power(
        "compute.services.credits.refunds.propose_reversal",
        "Propose to reverse a ledger transaction",
        "an administrator",
        ONE,
        "A proposal moves nothing; the committee's co-chairs decide.",
    ),
    Power(
        "compute.services.credits.refunds.decide_reversal",
        "Reverse a ledger transaction",
        "the co-chair of every sector of the committee holding its accounts",
        BOTH,
        "A correction is a new, mirror-image transaction, never an edit. One co-chair may turn it down.",
    ),
    Power("compute.services.credits.usage.post_usage", "Charge usage to an account", "the portal", SYSTEM),
    Power(
        "compute.services.credits.usage_months.refresh_usage_months",
        "Sum new usage into the public monthly aggregates",
        "the portal (beat)",
        SYSTEM,
        "Derived data: per resource, month and lead sector, never per person.",
    ),
    Power(
        "compute.services.credits.usage.post_usage_batch",
        "Charge a batch of usage, set-based, in one transaction",
        "the portal (imports, attribution)",
        SYSTEM,
        "One audit event per batch; its Merkle root commits to every record and every debit (one per account and day).",
    ),
    Power(
        "compute.services.credits.accounting.record_import",
        "Remember a file imported in full, so the same bytes again charge nothing at once",
        "the portal (import_usage)",
        SYSTEM,
        "Only a CSV or JSON table every row of which was read and posted; a dry run is not remembered.",
    ),
    Power(
        "compute.services.credits.accounting.post_lines",
        "Charge usage lines in batches",
        "the portal (imports)",
        SYSTEM,
    ),
    Power(
        "compute.services.credits.accounting.import_usage",
        "Import usage from an accounting table (CSV, JSON)",
        "an operator of the host (manage.py import_usage)",
        SYSTEM,
    ),
    Power(
        "compute.services.credits.table_sql.import_csv",
        "Import a CSV usage table on PostgreSQL, read by COPY",
        "an operator of the host (manage.py import_usage)",
        SYSTEM,
    ),
    Power(
        "compute.services.credits.accounting.import_slurm",
        "Import usage from Slurm's sacct or sreport",
        "an operator of the host (manage.py import_usage)",
        SYSTEM,
    ),
    Power(
        "compute.services.credits.accounting.set_mapping",
        "Map a Slurm account onto a charter, a partition or cluster onto a resource",
        "an administrator",
        ONE,
        "Audited. Decides which charter imported usage is charged to: one person's act, as registering "
        "resources and metric sources is; wrong charges are corrected by refunds (both co-chairs).",
    ),
    Power(
        "compute.services.credits.accounting.remove_mapping", "Forget an accounting mapping", "an administrator", ONE
    ),
    Power("compute.services.credits.alerts.check_alerts", "Raise credit alerts", "the portal", SYSTEM),
    # --- Compute: metrics and security -----------------------------------------------------------------
    Power("compute.services.metrics.sources.create_source", "Register a metric source", "an administrator", ONE),
    Power("compute.services.metrics.sources.update_source", "Change a metric source", "an administrator", ONE),
    Power("compute.services.metrics.sources.rotate_token", "Rotate a push source's token", "an administrator", ONE),
    Power("compute.services.metrics.collection.collect_all_metrics", "Collect every due source", "the portal", SYSTEM),
    Power("compute.services.metrics.collection.collect_source", "Collect one source", "the portal", SYSTEM),
    Power("compute.services.metrics.collection.ingest_push", "Accept pushed samples", "a push source's agent", SYSTEM),
    Power("compute.services.metrics.collection.purge_raw_samples", "Purge old raw samples", "the portal", SYSTEM),
    Power("compute.services.metrics.attribution.attribute_usage", "Attribute usage to charters", "the portal", SYSTEM),
    Power("compute.services.metrics.attribution.post_pending_usage", "Post attributed usage", "the portal", SYSTEM),
    Power("compute.services.metrics.security.ingest_report", "File a security report", "a report submitter", ONE),
    Power("compute.services.metrics.security.scan_directory", "Read reports from a folder", "the portal", SYSTEM),
    Power(
        "compute.services.metrics.security.scan_watched_directories",
        "Read every watched folder",
        "the portal (beat)",
        SYSTEM,
    ),
    Power("compute.services.metrics.security.watch_directory", "Watch a folder for reports", "an administrator", ONE),
    Power("compute.services.metrics.store.ingest", "Store samples and roll them up", "the portal", SYSTEM),
    Power("compute.services.metrics.store.purge_raw", "Drop raw samples past retention", "the portal", SYSTEM),
    # --- Roadmap -----------------------------------------------------------------------------------
    Power("roadmap.services.roadmaps.create_roadmap", "Draft a roadmap version", "a programme manager", ONE),
    Power("roadmap.services.roadmaps.update_roadmap", "Edit a draft roadmap", "a programme manager", ONE),
    Power("roadmap.services.roadmaps.draft_next_version", "Start the next roadmap version", "a programme manager", ONE),
    Power("roadmap.services.roadmaps.approve_roadmap", "Approve a roadmap version", "the committee", BALLOT),
    Power("roadmap.services.baselines.take_baseline", "Take a named baseline", "the portal, on approval", SYSTEM),
    Power("roadmap.services.baselines.propose_rebaseline", "Propose a re-baselining", "a programme manager", ONE),
    Power("roadmap.services.baselines.decide_rebaseline", "Decide a re-baselining", "the committee", BALLOT),
    Power("roadmap.services.baselines.withdraw_rebaseline", "Withdraw a re-baselining", "a programme manager", ONE),
    Power("roadmap.services.baselines.adopt_rebaseline", "Adopt a re-baselining", "the committee", BALLOT),
    Power("roadmap.services.baselines.reject_rebaseline", "Reject a re-baselining", "the committee", BALLOT),
    Power("roadmap.services.initiatives.create_theme", "Add a theme", "a programme manager", ONE),
    Power("roadmap.services.initiatives.create_initiative", "Add an initiative", "a programme manager", ONE),
    Power("roadmap.services.initiatives.update_initiative", "Change an initiative", "a programme manager", ONE),
    Power("roadmap.services.milestones.create_milestone", "Add a milestone", "a programme manager", ONE),
    Power(
        "roadmap.services.milestones.update_milestone",
        "Change a milestone's forecast or status",
        "a programme manager",
        ONE,
        "The baseline date changes only by a re-baselining ballot.",
    ),
    Power("roadmap.services.reports.submit_report", "File a progress report", "the initiative's owner or a PM", ONE),
    Power("roadmap.services.reports.update_report", "Correct a progress report", "its author or a PM", ONE),
    Power("roadmap.services.reports.send_report_reminders", "Remind owners of due reports", "the portal", SYSTEM),
    Power("roadmap.services.reports.email_report_reminder", "Email one reminder", "the portal (worker)", SYSTEM),
    Power("roadmap.services.feeds.issue_calendar_feed", "Get a private calendar feed", "the person", ONE),
    Power("roadmap.services.feeds.revoke_calendar_feed", "Revoke one's calendar feed", "the person", ONE),
]

# Public functions of the services that are not acts: reads, checks and helpers the acts use.
NOT_ACTS: set[str] = {
    "governance.services.ballots.co_chairs",
    "governance.services.ballots.close_message",
    "governance.services.ballots.lock_ballot",
    "governance.services.ballots.share_ballot",
    "governance.services.meetings.minutes_digest",
    "governance.services.invitations.reply_token",
    "governance.services.invitations.read_reply_token",
    "governance.services.invitations.meeting_feed_user",
    "governance.services.substitutes.co_chair_of_sector",
    "governance.services.substitutes.seats_held_by",
    "governance.services.substitutes.substitution_for_seat",
    "governance.services.seats.proposer_seat",
    "governance.services.seats.sectors_needed",
    "governance.services.seats.sectors_consented",
    "governance.services.tokens.token_lifetime",
    "governance.services.tokens.check_second_factor",
    "governance.services.tokens.authenticate_key",
    "identity.services.identities.identity_from_claims",
    "identity.services.identities.matching_mapping",
    "identity.services.identities.has_identity",
    "charters.services.charters.validate_parties",
    "charters.services.charters.set_related",
    "charters.services.charters.split_input",
    "charters.services.charters.lock_charter",
    "charters.services.charters.decide_version",
    "charters.services.charters.require_ballot_outcome",
    "charters.services.charters.refuse_while_ballot_open",
    "charters.services.reviews.review_version",
    "roadmap.services.baselines.refuse_while_balloting",
    "roadmap.services.baselines.require_passed_ballot",
    "roadmap.services.feeds.calendar_feed_user",
    "roadmap.services.fields.pick",
    "roadmap.services.fields.ids",
    "compute.services.credits.alerts.alert_recipients",
    "compute.services.credits.accounting.file_digest",
    "compute.services.credits.accounting.imported_before",
    "compute.services.credits.accounting.sacct_lines",
    "compute.services.credits.accounting.sreport_lines",
    "compute.services.credits.accounting.table_lines",
    "compute.services.credits.batch_sql.post",
    "compute.services.credits.batches.check_resources",
    "compute.services.credits.batches.day_memo",
    "compute.services.credits.batches.open_accounts",
    "compute.services.credits.batches.post_in_python",
    "compute.services.credits.batches.raise_alerts",
    "compute.services.credits.batches.rate_at",
    "compute.services.credits.batches.record_batch",
    "compute.services.credits.batches.split_draw",
    "compute.services.credits.batches.usage_line",
    "compute.services.credits.debits.batch_entries",
    "compute.services.credits.debits.debit_proof",
    "compute.services.credits.leaves.leaf_entry",
    "compute.services.credits.leaves.leaf_text",
    "compute.services.credits.leaves.debit_leaf_text",
    "compute.services.credits.leaves.grouped_leaf_text",
    "compute.services.credits.leaves.grouped_texts",
    "compute.services.credits.leaves.python_entries_v2",
    "compute.services.credits.leaves.python_entries_v3",
    "compute.services.credits.leaves.records_digest",
    "compute.services.credits.leaves.record_leaf_text",
    "compute.services.credits.leaves.sql_debit_leaves",
    "compute.services.credits.leaves.sql_entries_v2",
    "compute.services.credits.leaves.sql_entries_v3",
    "compute.services.credits.debits.replay_usage_batches",
    "compute.services.credits.leaves.sql_entries",
    "compute.services.credits.leaves.stream_root",
    "compute.services.credits.debits.verify_debit_proof",
    "compute.services.metrics.attribution.ledger_source_key_of",
    "compute.services.credits.posting.add_to_days",
    "compute.services.credits.posting.credits",
    "compute.services.credits.posting.draw",
    "compute.services.credits.posting.fmt_credits",
    "compute.services.credits.posting.lock_accounts",
    "compute.services.credits.posting.lock_ledger",
    "compute.services.credits.posting.lot_balances",
    "compute.services.credits.posting.pools_by_id",
    "compute.services.credits.posting.post",
    "compute.services.credits.posting.system_account",
    "compute.services.credits.table_sql.check_sql",
    "compute.services.credits.refunds.not_given_back",
    "compute.services.credits.refunds.records_in_fault",
    "compute.services.credits.refunds.refundable_records",
    "compute.services.credits.refunds.refunded_records",
    "compute.services.credits.requests.eligibility_problems",
    "compute.services.credits.resources.current_rate",
    "compute.services.credits.verification.verify_ledger",
    "compute.services.metrics.attribution.charter_lookup",
    "compute.services.metrics.attribution.ledger_source_key",
    "compute.services.metrics.attribution.save_attribution",
    "compute.services.metrics.attribution.usage_rows",
    "compute.services.metrics.collection.due_sources",
    "compute.services.metrics.sources.source_for_token",
    "compute.services.metrics.series_cache.answer",
    "compute.services.metrics.store.copy_into",
    "compute.services.metrics.store.metric_ids",
    "compute.services.metrics.store.plan",
    "compute.services.metrics.store.raw_horizon",
    "compute.services.metrics.store.read_series",
    "compute.services.metrics.store.save",
}


def powers_table() -> list[dict]:
    """The table as plain rows, for the page and the API."""
    return [power.as_dict() for power in POWERS]
