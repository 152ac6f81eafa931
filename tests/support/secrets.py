"""Secrets the tests plant and then look for where they must never show."""

from __future__ import annotations

SECRETS = {
    "mailto://ana:p@ssw0rd!@smtp.example.org?from=ana@example.org&to=ana@example.org": [
        "p@ssw0rd!",
        "ssw0rd",
    ],
    "mailto://ana:p%40ssw0rd@smtp.example.org?from=ana@example.org": ["p%40ssw0rd"],
    "mailtos://smtp.example.org?user=ana&pass=hunter2xyz&to=ana@example.org": ["hunter2xyz"],
    "tgram://123456789:ABCdefGhIJKlmnopQRsTUvwxyz/987654321": ["ABCdefGhIJKlmnop"],
    "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js": ["JHMHI8qBe7bk2ZwO5U711o3dV_js"],
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general": ["TIiajkdnlazkcOXrIdevi7FQ"],
    "json://hooks.example.org/notify?token=s3cr3tt0k3n": ["s3cr3tt0k3n"],
}
