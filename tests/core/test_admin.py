"""What changes only through the services, or never, the admin shows but does not let anyone touch."""

import pytest

READ_ONLY = ["core/auditlogentry", "loyalty/pointsentry", "loyalty/membertier", "wallet/walletentry",
             "offers/coupon", "rewards/redemption"]


@pytest.mark.parametrize("model", READ_ONLY)
def test_the_admin_may_look_but_not_add_to_a_ledger_or_the_audit_log(admin_client, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 200
    assert admin_client.get(f"/admin/{model}/add/").status_code == 403


def test_configuration_stays_editable_in_the_admin(admin_client):
    assert admin_client.get("/admin/wallet/topupplan/add/").status_code == 200
    assert admin_client.get("/admin/rewards/reward/add/").status_code == 200
