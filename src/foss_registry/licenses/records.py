"""The license record the API serves: catalog facts, compatibility and a policy status."""

from __future__ import annotations

from typing import Any

from foss_registry.licenses.catalog import License
from foss_registry.licenses.compatibility import compatibility_of


def license_record(lic: License, status: str) -> dict[str, Any]:
    """The JSON record of ``GET /licenses/{id}``.

    The seed's fields (``name`` is the SPDX id, ``status`` the organisation
    policy's status for it, passed in by the caller) plus the catalog facts and
    the full compatibility picture. Compatibility lists are keyed by the id's
    current replacement for deprecated ids.
    """
    compat = compatibility_of(lic.id)
    return {
        "name": lic.id,
        "status": str(status),
        "category": lic.category.value,
        "compatible_with": list(compat.compatible_with),
        "incompatible_with": list(compat.incompatible_with),
        "requires_attribution": lic.requires_attribution,
        "allows_commercial": lic.allows_commercial,
        "url": lic.url,
        "full_name": lic.full_name,
        "kind": lic.kind,
        "osi_approved": lic.osi_approved,
        "fsf_libre": lic.fsf_libre,
        "deprecated": lic.deprecated,
        "replaced_by": lic.replaced_by,
        "compatibility_unknown": list(compat.compatibility_unknown),
        "compatibility_known": compat.compatibility_known,
    }
