"""Risk signals of a version (pure): typosquatting, release age, yanked, install scripts…

:mod:`~foss_registry.signals.rules` turns facts into signals with the levels
the policy sets; :mod:`~foss_registry.signals.typosquat` indexes known names;
:mod:`~foss_registry.signals.popular` holds the popular names shipped with the product.
"""
