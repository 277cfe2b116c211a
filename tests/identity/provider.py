"""A real OpenID Connect provider for the tests: the npm package `oidc-provider`, run with the
machine's Node.js by tests/identity/oidc_provider.mjs, with two issuers (one per partner
organization), a static client each and test accounts whose claims the tests rewrite."""

from __future__ import annotations

import copy
import json
import shutil
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.conftest import missing
from tests.processes import Process, free_port, wait_for

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
MODULE = Path(settings.BASE_DIR) / "node_modules" / "oidc-provider"
PASSWORD = "provider-password"

# The people each issuer knows. Claim names are the portal's defaults (organization, roles).
ACCOUNTS = {
    "ministry": {
        "alice": {
            "password": PASSWORD,
            "claims": {
                "email": "alice@ministry.example",
                "email_verified": True,
                "given_name": "Alice",
                "family_name": "Aune",
                "preferred_username": "alice.aune",
                "organization": "ministry-digital",
                "roles": ["tgb-program-manager", "intranet-users"],
            },
            "amr": ["pwd"],
        },
        "marta": {
            "password": PASSWORD,
            "claims": {
                "email": "marta@ministry.example",
                "given_name": "Marta",
                "preferred_username": "marta",
                "organization": "ministry-digital",
                "roles": [],
            },
            "amr": ["pwd", "otp"],
        },
        "anton": {
            "password": PASSWORD,
            "claims": {"email": "anton@ministry.example", "given_name": "Anton", "organization": "ministry-digital"},
            "amr": ["pwd"],
            "acr": "urn:tgb:mfa",
        },
        "oskar": {
            "password": PASSWORD,
            "claims": {"email": "oskar@ministry.example", "given_name": "Oskar", "organization": "ministry-archive"},
            "amr": ["pwd"],
        },
    },
    "helios": {
        "henrik": {
            "password": PASSWORD,
            "claims": {
                "email": "henrik@helios.example",
                "given_name": "Henrik",
                "preferred_username": "henrik",
                "organization": "helios",
                "roles": "auditors",
            },
            "amr": ["pwd", "hwk"],
        },
    },
}
NAMES = {"ministry": "Ministry of Digital Affairs", "helios": "Helios Compute"}


class IdentityProviders:
    """The running provider: one issuer per partner organization."""

    def __init__(self, directory: Path, portal_url: str):
        self.directory = directory
        self.issuers: dict[str, dict] = {}
        for name in ACCOUNTS:
            port = free_port()
            self.issuers[name] = {
                "name": NAMES[name],
                "port": port,
                "issuer": f"http://127.0.0.1:{port}",
                "accounts": str(directory / f"{name}-accounts.json"),
                "clients": [
                    {
                        "client_id": f"tgb-portal-{name}",
                        "client_secret": f"secret-of-{name}",
                        "redirect_uris": [f"{portal_url}/accounts/oidc/{name}/login/callback/"],
                    }
                ],
            }
        self.reset()
        config = directory / "provider.json"
        config.write_text(json.dumps({"issuers": list(self.issuers.values())}))
        node = shutil.which("node")
        if node is None:
            missing("Node.js is not installed: the OpenID provider of the SSO tests runs on it")
        if not MODULE.exists():
            missing(f"oidc-provider is not installed at {MODULE}: run `npm ci --no-audit --no-fund`")
        self.process = Process("oidc-provider", [node, str(SCRIPT), str(config)]).start()
        for issuer in self.issuers.values():
            wait_for(lambda issuer=issuer: self._discovers(issuer["issuer"]), 30, f"the OpenID provider at {issuer}")

    def _discovers(self, issuer: str) -> bool:
        if self.process.proc.poll() is not None:
            raise AssertionError(f"The OpenID provider exited:\n{self.process.output()}")
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as response:  # noqa: S310
                return json.load(response)["issuer"] == issuer
        except OSError:
            return False

    def issuer(self, name: str) -> str:
        return self.issuers[name]["issuer"]

    def reset(self) -> None:
        for name, accounts in ACCOUNTS.items():
            self.write_accounts(name, copy.deepcopy(accounts))

    def accounts(self, name: str) -> dict:
        return json.loads(Path(self.issuers[name]["accounts"]).read_text())

    def write_accounts(self, name: str, accounts: dict) -> None:
        Path(self.issuers[name]["accounts"]).write_text(json.dumps(accounts))

    def change(self, name: str, username: str, **fields) -> None:
        """Change what the issuer says about a person from their next sign-in on."""
        accounts = self.accounts(name)
        for key, value in fields.items():
            if key in ("amr", "acr", "refuse", "password"):
                accounts[username][key] = value
            else:
                accounts[username]["claims"][key] = value
        self.write_accounts(name, accounts)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment a deployment sets for these issuers (README: Single sign-on)."""
        env = {"OIDC_PROVIDERS": ",".join(self.issuers), **extra}
        for name, issuer in self.issuers.items():
            prefix = f"OIDC_{name.upper()}_"
            env |= {
                f"{prefix}ISSUER": issuer["issuer"],
                f"{prefix}CLIENT_ID": issuer["clients"][0]["client_id"],
                f"{prefix}CLIENT_SECRET": issuer["clients"][0]["client_secret"],
                f"{prefix}NAME": issuer["name"],
            }
        return env

    def stop(self) -> None:
        self.process.stop()
