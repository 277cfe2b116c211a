"""The model provenance registry: what a model was trained on, under which agreement, and its
W3C PROV-JSON export."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from django.utils import timezone
from prov.model import ProvDocument

from charters.services import provenance
from governance.exceptions import DomainError
from tests.api_checks import APIResourceChecks
from tests.charters.base import CharterTestCase, FewRowsFirst

DIGEST = "sha256:" + "ab" * 32


class ModelTestCase(CharterTestCase):
    def setUp(self):
        super().setUp()
        self.signed = self.agreement(signed_by=[self.staff, self.private_staff])
        self.charter = self.active(self.draft(data_use_agreements=[self.signed]))

    def register(self, version="1.0", agreement=None, dataset=None, **fields):
        return provenance.register_model(
            self.staff,
            charter=self.charter,
            name="triage-net",
            version=version,
            digest=DIGEST,
            credits_consumed=Decimal("1200"),
            gpu_hours=Decimal("480"),
            bias_audit_results={"demographic_parity_gap": 0.03},
            training_data=[{"dataset": dataset or self.health_records, "agreement": agreement or self.signed}],
            **fields,
        )


class RegistrationTests(ModelTestCase):
    def test_a_model_trained_under_a_signed_agreement_is_registered_with_its_provenance(self):
        model = self.register()
        self.assertEqual(list(model.datasets.all()), [self.health_records])
        self.assertEqual(model.training_data.get().agreement, self.signed)

    def test_a_model_trained_on_data_whose_agreement_is_unsigned_is_refused(self):
        unsigned = self.agreement(title="Unsigned", signed_by=[self.staff])
        # Named as if by an amendment that has not been approved yet: registration checks anyway.
        self.charter.data_use_agreements.add(unsigned)
        with self.assertRaises(DomainError) as refusal:
            self.register(agreement=unsigned)
        self.assertIn("'Unsigned' is not signed by Helios Compute", refusal.exception.message)

    def test_a_model_trained_before_the_agreement_was_signed_is_refused(self):
        with self.assertRaisesMessage(DomainError, "its data was used before the agreement bound its parties"):
            self.register(trained_at=timezone.now() - datetime.timedelta(days=3))

    def test_a_model_trained_after_the_agreement_expired_is_refused(self):
        with self.assertRaisesMessage(DomainError, "after the data use agreement"):
            self.register(trained_at=timezone.now() + datetime.timedelta(days=400))

    def test_the_dataset_must_come_through_an_agreement_the_charter_names(self):
        other = self.agreement(title="Other", signed_by=[self.staff, self.private_staff])
        with self.assertRaisesMessage(Exception, "does not name the data use agreement 'Other'"):
            self.register(agreement=other)

    def test_models_are_registered_only_under_an_active_or_completed_charter(self):
        self.charter = self.by_both_chairs("suspend", self.charter, reason="Audit.")
        with self.assertRaisesMessage(DomainError, "this one is 'suspended'"):
            self.register()

    def test_lineage_goes_back_to_the_root(self):
        base = self.register("1.0")
        tuned = self.register("1.1", parent=base)
        distilled = self.register("1.2", parent=tuned)
        self.assertEqual(distilled.lineage(), [tuned, base])
        response = self.api(self.public_member).get(f"/api/models/{distilled.pk}/")
        self.assertEqual(response.json()["lineage"], [tuned.pk, base.pk])


class ProvExportTests(ModelTestCase):
    def test_the_prov_export_is_valid_prov_json_with_the_expected_entities_and_relations(self):
        base = self.register("1.0")
        model = self.register("1.1", parent=base)
        response = self.api(self.private_member).get(f"/api/models/{model.pk}/prov/")
        self.assertEqual(response.status_code, 200)
        document = json.loads(response.content)

        self.assertEqual(
            set(document["entity"]),
            {
                f"tgb:model/{model.pk}",
                f"tgb:model/{base.pk}",
                f"tgb:dataset/{self.health_records.pk}",
                f"tgb:agreement/{self.signed.pk}",
                f"tgb:charter/{self.charter.pk}",
            },
        )
        self.assertEqual(set(document["activity"]), {f"tgb:training/{model.pk}"})
        self.assertIn(f"tgb:organization/{self.orgs.council.pk}", document["agent"])
        # Every relation points at records the document defines.
        defined = set(document["entity"]) | set(document["activity"]) | set(document["agent"])
        for kind in (
            "wasGeneratedBy",
            "used",
            "wasDerivedFrom",
            "wasAssociatedWith",
            "wasAttributedTo",
            "actedOnBehalfOf",
        ):
            self.assertIn(kind, document)
            for relation in document[kind].values():
                for key, value in relation.items():
                    if key in (
                        "prov:entity",
                        "prov:activity",
                        "prov:agent",
                        "prov:plan",
                        "prov:generatedEntity",
                        "prov:usedEntity",
                        "prov:delegate",
                        "prov:responsible",
                    ):
                        self.assertIn(value, defined, f"{kind} {key}")
        derived = {(r["prov:generatedEntity"], r["prov:usedEntity"]) for r in document["wasDerivedFrom"].values()}
        self.assertIn((f"tgb:model/{model.pk}", f"tgb:model/{base.pk}"), derived)
        self.assertIn((f"tgb:model/{model.pk}", f"tgb:dataset/{self.health_records.pk}"), derived)

        # And the W3C PROV library reads it back as the same document.
        parsed = ProvDocument.deserialize(content=response.content.decode(), format="json")
        records = {
            r.identifier.uri for r in parsed.get_records() if r.identifier and not str(r.identifier).startswith("_:")
        }
        self.assertIn(f"http://testserver/model/{model.pk}", records)
        self.assertEqual(len(list(parsed.get_records())), sum(len(document[k]) for k in document if k != "prefix"))

    def test_the_model_page_links_the_download(self):
        model = self.register()
        self.client.force_login(self.public_member)
        page = self.client.get(f"/charters/models/{model.pk}/")
        self.assertContains(page, "Download its provenance")
        download = self.client.get(f"/charters/models/{model.pk}/prov.json")
        self.assertEqual(download["Content-Type"], "application/json")
        self.assertIn("wasGeneratedBy", json.loads(download.content))

    def test_the_prov_export_of_an_id_that_is_not_a_number_is_a_json_404(self):
        # It was a 500 ("Field 'id' expected a number"), found by tests/test_api_fuzz.py.
        response = self.api(self.private_member).get("/api/models/null/prov/")
        self.assertEqual(response.status_code, 404)
        self.assertIn("detail", response.json())


class ModelAPITests(FewRowsFirst, APIResourceChecks, ModelTestCase):
    url = "/api/models/"
    refused_writer = "outsider"
    allowed_writer = "staff"

    def make_object(self, n):
        return self.register(version=f"0.{n}")

    def create_payload(self):
        return {
            "charter": self.charter.pk,
            "name": "triage-net",
            "version": "2.0",
            "digest": DIGEST,
            "gpu_hours": "10.00",
            "training_data": [{"dataset": self.health_records.pk, "agreement": self.signed.pk}],
        }

    def update_payload(self):
        return {"limitations": "Not for paediatric triage."}

    def test_provenance_is_fixed_after_registration(self):
        model = self.register()
        response = self.api(self.staff).patch(
            f"{self.url}{model.pk}/", {"digest": "sha256:" + "00" * 32}, format="json"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["digest"], DIGEST)

    def test_a_malformed_digest_is_a_400(self):
        response = self.api(self.staff).post(self.url, {**self.create_payload(), "digest": "md5:abc"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("digest", response.json()["errors"])
