"""Pages of the charters app, one module per noun (as charters.services):

- charters.views.charters: the list, drafting and editing, the charter page, its lifecycle
  steps, preparing a ballot on it, and the IP frameworks compared;
- charters.views.reviews: recording a technical review;
- charters.views.amendments: amendments and the versions they make, compared;
- charters.views.agreements: data use agreements and the datasets they share;
- charters.views.provenance: the model provenance registry.

They read through each model's `visible_to` and charters.selectors and write through
charters.services; a refused step comes back as a message on the page it was asked from.
"""
