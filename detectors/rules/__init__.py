"""Strong (``S_*``) and weak (``W_*``) rules: small frozen objects over the features.

>>> from detectors.rules import CATALOGUE
>>> sorted(rule.code for rule in CATALOGUE)[0]
'S_CONTACT_LOST'
"""

from detectors.rules.base import Param, Rule, StrongRule, WeakRule
from detectors.rules.catalogue import CATALOGUE, rule_by_code

__all__ = ["CATALOGUE", "Param", "Rule", "StrongRule", "WeakRule", "rule_by_code"]
