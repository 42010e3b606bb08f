"""Pure metric functions: classification, interventions, alignment (CAS), impurity (OIS/NIS)."""
