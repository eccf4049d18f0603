import numpy as np
import pandas as pd
import pytest

from geovario.errors import GeovarioError
from geovario.metrics import DISTANCE_KEYS, METRIC_KEYS, compute_metrics

PARIS = (48.8566, 2.3522)
LABELS = pd.DataFrame([("FR", "Ile-de-France_FR", "Paris_Ile-de-France_FR",
                        "Paris_Paris_Ile-de-France_FR")],
                      columns=["unique_country", "unique_region", "unique_sub-region",
                               "unique_city"])


def test_key_order_without_and_with_labels():
    assert METRIC_KEYS == ("n", "mean_km", "median_km", "geoscore", "acc_1km", "acc_25km",
                           "acc_200km", "acc_750km", "acc_2500km", "acc_country",
                           "acc_region", "acc_subregion", "acc_city")
    assert tuple(compute_metrics([PARIS], [PARIS])) == DISTANCE_KEYS
    combined = compute_metrics([PARIS], [PARIS], LABELS)
    assert tuple(combined) == METRIC_KEYS
    assert combined["acc_city"] == 1.0 and combined["mean_km"] == 0.0


def test_raises_on_invalid_predictions():
    with pytest.raises(GeovarioError, match="compute_metrics: pred_coords: 1 invalid"):
        compute_metrics(np.array([[np.nan, 0.0]]), [PARIS])
