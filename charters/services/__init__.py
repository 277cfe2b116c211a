"""The write path of the charters app, one module per noun:

- charters.services.charters: drafting and editing charters, and the rules the others share;
- charters.services.lifecycle: the lifecycle steps of CHARTER_TRANSITIONS and ballot outcomes;
- charters.services.amendments: amendments of approved charters;
- charters.services.reviews: technical reviews of the version before the committee;
- charters.services.agreements: datasets and data use agreements (signing, renewal, expiry);
- charters.services.provenance: the registry of models produced under charters.

Each function checks who may act (charters.permissions), validates, writes and appends the
audit event in one transaction. Views, the API, the admin, the ballot hooks (charters.ballots)
and tasks call them as `<module>.<act>`; shared reads are in charters.selectors.
"""
