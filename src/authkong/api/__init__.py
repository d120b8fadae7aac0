"""Public HTTP surface: challenge, redeem and the siteverify flavors."""
