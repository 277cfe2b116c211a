"""Abstract bases shared by the portal's models: timestamps, and the append-only record."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    """Records when a row was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a row of an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused; the model's `append_only_message` says why.

    The database refuses them too (triggers made by each app's migrations): this guard gives
    the portal's own code a clear error before the query is sent.
    """

    def update(self, **kwargs):
        raise AppendOnlyError(self.model.append_only_message)

    def delete(self):
        raise AppendOnlyError(self.model.append_only_message)


class AppendOnlyModel(models.Model):
    """A row written once and never changed or removed: audit events, ledger rows, rates,
    baselines. Corrections are new rows (a reversing transaction, a new baseline)."""

    append_only_message = "This record is append-only."

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(self.append_only_message)
