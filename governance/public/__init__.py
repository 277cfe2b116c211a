"""The public view (DESIGN.md 2.8): read-only pages, open data and a feed for anyone, signed in
or not. Every row comes from a model's `published()` queryset through governance.public.selectors,
so a page, a download and the feed can only show what is published, and all three show it alike."""
