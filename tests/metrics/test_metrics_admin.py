import math

import numpy as np
import pandas as pd
import pytest
import torch

from geovario.csvtable import missing_label_mask
from geovario.errors import GeovarioError
from geovario.metrics import ADMIN_KEYS, LABEL_COLUMNS, admin_metrics, predicted_labels

PARIS = (48.8566, 2.3522)  # Notre-Dame area
NEW_YORK = (40.7128, -74.0060)  # Lower Manhattan
WINDHOEK = (-22.5594, 17.0832)  # Namibia, ISO code "NA"

# Labels checked by hand against GeoNames (cities1000): Paris has admin2 "Paris";
# New York City has no admin2, so its sub-region and city strings carry an empty field.
PARIS_LABELS = ("FR", "Ile-de-France_FR", "Paris_Ile-de-France_FR",
                "Paris_Paris_Ile-de-France_FR")
NEW_YORK_LABELS = ("US", "New York_US", "_New York_US", "New York City__New York_US")


def truth(*rows):
    return pd.DataFrame(list(rows), columns=list(LABEL_COLUMNS))


def test_predicted_labels_of_real_places():
    labels = predicted_labels(np.array([PARIS, NEW_YORK]))
    got = [tuple(labels[column][i] for column in LABEL_COLUMNS) for i in range(2)]
    assert got == [PARIS_LABELS, NEW_YORK_LABELS]


def test_all_correct_and_half_correct():
    assert admin_metrics([PARIS, NEW_YORK], truth(PARIS_LABELS, NEW_YORK_LABELS)) == {
        key: 1.0 for key in ADMIN_KEYS}
    # New York predicted where Paris is true: wrong at every level
    m = admin_metrics([PARIS, NEW_YORK], truth(PARIS_LABELS, PARIS_LABELS))
    assert list(m) == list(ADMIN_KEYS)
    assert all(value == 0.5 for value in m.values())


def test_right_city_name_wrong_country_is_wrong_city():
    paris_texas = ("US", "Texas_US", "Lamar County_Texas_US", "Paris_Lamar County_Texas_US")
    m = admin_metrics([PARIS], truth(paris_texas))
    assert m == {key: 0.0 for key in ADMIN_KEYS}


@pytest.mark.parametrize("missing", ["NaN", "nan", "", " NaN ", None, float("nan"), np.nan])
def test_missing_true_labels_leave_the_denominator(missing):
    # row 3 (a wrong prediction) has no true city: city accuracy is 2/2, not 2/3
    rows = truth(PARIS_LABELS, NEW_YORK_LABELS, PARIS_LABELS[:3] + (missing,))
    m = admin_metrics([PARIS, NEW_YORK, NEW_YORK], rows)
    assert m["acc_city"] == 1.0
    assert m["acc_country"] == pytest.approx(2 / 3)


def test_all_labels_missing_is_nan():
    m = admin_metrics([PARIS, NEW_YORK], truth(PARIS_LABELS[:3] + ("NaN",),
                                               NEW_YORK_LABELS[:3] + ("",)))
    assert math.isnan(m["acc_city"])
    assert m["acc_country"] == 1.0


def test_namibia_code_na_is_a_label_not_missing():
    assert not missing_label_mask(["NA"])[0]
    m = admin_metrics([WINDHOEK], {"unique_country": ["NA"], "unique_region": ["x"],
                                   "unique_sub-region": ["x"], "unique_city": ["x"]})
    assert m["acc_country"] == 1.0
    assert m["acc_region"] == 0.0


def test_mapping_and_torch_inputs():
    labels = {column: [value] for column, value in zip(LABEL_COLUMNS, PARIS_LABELS, strict=True)}
    assert admin_metrics(torch.tensor([PARIS]), labels)["acc_city"] == 1.0


def test_raises_on_missing_column():
    labels = truth(PARIS_LABELS).drop(columns="unique_city")
    with pytest.raises(GeovarioError, match="admin_metrics: true_labels has no column "
                                            "'unique_city'"):
        admin_metrics([PARIS], labels)


def test_raises_on_length_mismatch():
    with pytest.raises(GeovarioError, match=r"admin_metrics: true_labels\['unique_country'\] "
                                            r"has 2 rows but pred_coords has 1"):
        admin_metrics([PARIS], truth(PARIS_LABELS, PARIS_LABELS))


def test_raises_on_wrong_type():
    with pytest.raises(GeovarioError, match="admin_metrics: true_labels must be a DataFrame"):
        admin_metrics([PARIS], [PARIS_LABELS])


def test_raises_on_invalid_coordinates():
    with pytest.raises(GeovarioError, match="admin_metrics: pred_coords: 1 invalid"):
        admin_metrics([(0.0, 200.0)], truth(PARIS_LABELS))
    with pytest.raises(GeovarioError, match="predicted_labels: pred_coords: 1 invalid"):
        predicted_labels([(np.nan, 0.0)])
