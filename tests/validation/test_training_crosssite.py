"""Validation of training across sites (``docs/models/training.md`` §4) against INTELLECT-1 and theory.

INTELLECT-1 (Jaghouar et al. 2024, arXiv:2412.01152) trained a 10B-parameter model with DiLoCo (100 inner
steps, int8 all-reduce of the pseudo-gradients) on up to 14 nodes of 8 H100 at independent providers over the
public internet, and reports 83 % compute utilisation across three continents and 96 % with nodes only in the
United States. Inputs taken from sources: 10B parameters, 14 nodes × 8 H100, 100 inner steps, int8 (4× over
FP32), a batch of 128 × 8,192 tokens per node and inner step (the run's configuration
``configs/10B/H100_intellect1.toml`` of github.com/PrimeIntellect-ai/prime), MFU 38.8 % (the midpoint of the
reported 36.2–41.4 %). Assumed (not published in what we could read): every node is its own site and
all-reduces in one ring over the 14 nodes at **1 Gbit/s per node** (an a-priori estimate of a rented node's
sustained internet throughput, chosen before the comparison and not tuned to it); a blocking outer step
(no overlap); node locations (8 US, 4 Europe, 2 Asia, estimates) only set the fibre latency. So the check is
*independent*: no constant was fitted to 83 % or 96 %.

Theory: a synchronous data-parallel job across two sites finishes at its work / the hand-computed factor.
Invariant: a pool with priced links whose jobs never span gives the result of the same pool without them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from numpy.testing import assert_allclose

import gigawatt as gw
from gigawatt.perf import crosssite as cs
from gigawatt.perf.routing import great_circle_km

# (latitude, longitude, country): 8 US, 4 Europe, 2 Asia (estimates of where providers' nodes were)
GLOBAL_NODES = [
    (39.0, -77.5, "US"), (40.0, -83.0, "US"), (45.6, -121.2, "US"), (37.4, -122.1, "US"),
    (32.8, -96.8, "US"), (41.9, -87.6, "US"), (33.7, -84.4, "US"), (47.6, -122.3, "US"),
    (50.1, 8.7, "DE"), (60.2, 24.9, "FI"), (52.4, 4.9, "NL"), (48.9, 2.4, "FR"),
    (19.1, 72.9, "IN"), (1.35, 103.8, "SG"),
]  # fmt: skip
US_NODES = [n for n in GLOBAL_NODES if n[2] == "US"] + [
    (30.3, -97.7, "US"), (25.8, -80.2, "US"), (39.7, -105.0, "US"), (42.4, -71.1, "US"),
    (36.2, -115.1, "US"), (44.98, -93.27, "US"),
]  # fmt: skip
N_PARAMS = 10e9
TOKENS_PER_NODE_STEP = 128 * 8192
MFU = (0.362 + 0.414) / 2
NODE_GBIT_PER_S = 1.0  # a-priori estimate (see the module docstring)
#: H100 SXM dense BF16 peak [TFLOP/s], from the catalog (its row carries the datasheet source)
H100_BF16_DENSE_TFLOPS = float(gw.catalog.accelerator("H100-SXM").bf16_dense_tflops or 0.0)
SOURCE = (
    "Jaghouar et al. (2024), INTELLECT-1 Technical Report, arXiv:2412.01152 (abstract: 83 % compute "
    "utilisation across 3 continents, 96 % US-only); configs/10B/H100_intellect1.toml (PrimeIntellect-ai/prime)"
)


def _site(name: str, lat: float, lon: float, cc: str, servers: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "location": {"latitude_deg": lat, "longitude_deg": lon, "country_code": cc},
        "climate": {"kind": "constant", "dry_bulb_c": 15.0, "relative_humidity_frac": 0.5},
        "grid": {"energy_price_usd_per_mwh": 50.0},
        "halls": [
            {
                "name": "h",
                "cooling": {"technology": "air"},
                "racks": [
                    {
                        "name": "r",
                        "count": 1,
                        "servers_per_rack": servers,
                        "server": {"accelerator": "H100-SXM"},
                    }
                ],
            }
        ],
    }


def _scenario(sites: list[dict[str, Any]], workload: dict[str, Any], horizon_h: float = 24.0) -> gw.Scenario:
    return gw.load_scenario(
        {
            "name": "crosssite",
            "start": "2026-03-01T00:00:00",
            "horizon_h": horizon_h,
            "step_s": 300,
            "seed": 1,
            "sites": sites,
            "workloads": [workload],
        }
    )


def _intellect1_utilisation(nodes: list[tuple[float, float, str]]) -> float:
    """Compute utilisation of a 10-hour INTELLECT-1-like run in the simulator: work / time computing or syncing."""
    sites = [_site(f"n{i:02d}", lat, lon, cc) for i, (lat, lon, cc) in enumerate(nodes)]
    n_gpus = 8 * len(nodes)
    wl = {
        "kind": "training",
        "name": "intellect1",
        "target": {"sites": [s["name"] for s in sites]},
        "cross_site": {
            "bandwidth_gbit_per_s_per_gpu": NODE_GBIT_PER_S / 8,  # per node = per site (one node per site)
            "method": "diloco",
            "inner_steps": 100,
            "compression": 4,  # int8 of FP32 pseudo-gradients
        },
        "reliability": {"failures": "none", "restart_s": 0},
        "jobs": [
            {
                "name": "intellect-1",
                "gpus": n_gpus,
                "model_params": N_PARAMS,
                "duration_h": 10.0,
                "mfu_frac": MFU,
                "batch_tokens": TOKENS_PER_NODE_STEP * len(nodes),
            }
        ],
    }
    job = gw.simulate(_scenario(sites, wl)).jobs.iloc[0]
    assert job.state == "finished" and job.spanned == "sites" and job.span_sites == len(nodes)
    return 10.0 * 3600.0 / (job.end_s - job.start_s)


def test_intellect1_compute_utilisation_across_continents(validation) -> None:
    model = _intellect1_utilisation(GLOBAL_NODES)
    within = abs(model - 0.83) <= 0.05
    validation(
        "INTELLECT-1 compute utilisation, 14 nodes × 8 H100 on 3 continents (DiLoCo H = 100, int8), "
        "1 Gbit/s per node assumed",
        model=round(model, 3),
        reference=0.83,
        tolerance="±0.05 absolute",
        source=SOURCE,
        kind="independent",
        within=within,
    )
    # the gap is documented (docs/models/training.md §4): at one bandwidth the model gives the continents
    # only their latency, far too little; the report's 83 % implies ≈ 0.35 Gbit/s per node between them
    assert 0.85 < model < 0.97
    implied = [
        float(
            cs.span_throughput_factor(
                cs.step_compute_s(N_PARAMS, TOKENS_PER_NODE_STEP, 8, H100_BF16_DENSE_TFLOPS * MFU),
                0.0,
                cs.ring_allreduce_s(N_PARAMS, 14, bw, 0.0),
                100,
            )
        )
        for bw in (0.3, 0.4)
    ]
    assert implied[0] < 0.83 < implied[1]


def test_intellect1_compute_utilisation_within_the_us(validation) -> None:
    model = _intellect1_utilisation(US_NODES)
    validation(
        "INTELLECT-1 compute utilisation, 14 nodes × 8 H100 within the US (DiLoCo H = 100, int8), "
        "1 Gbit/s per node assumed",
        model=round(model, 3),
        reference=0.96,
        tolerance="±0.05 absolute",
        source=SOURCE,
        kind="independent",
        within=abs(model - 0.96) <= 0.05,
    )
    assert abs(model - 0.96) <= 0.05


def _two_sites(servers: int = 4) -> list[dict[str, Any]]:
    # Mount Pleasant, Wisconsin and Atlanta (Microsoft Fairwater sites, ≈ 1,100 km apart)
    return [_site("wi", 42.7, -87.9, "US", servers), _site("atl", 33.75, -84.39, "US", servers)]


def test_synchronous_data_parallel_across_two_sites_matches_the_formula(validation) -> None:
    # 48 H100 (6 servers): 4 in Wisconsin, 2 in Atlanta (packing: the fuller site first). 70B parameters, BF16 gradients, 100 Gbit/s between
    # the sites, latency from the distance. t_c = 6 N T_b / (n F) with T_b = 1,024 tokens per GPU.
    wl = {
        "kind": "training",
        "name": "dp",
        "target": {"sites": ["wi", "atl"]},
        "cross_site": {"bandwidth_gbit_per_s": 100.0},
        "reliability": {"failures": "none", "restart_s": 0},
        "jobs": [{"name": "j", "gpus": 48, "model_params": 70e9, "duration_h": 2.0, "mfu_frac": 0.4}],
    }
    job = gw.simulate(_scenario(_two_sites(), wl, horizon_h=48)).jobs.iloc[0]
    tc = 6 * 70e9 * 1024 * 48 / (48 * job.tflops_per_gpu * 1e12)  # peak (catalog, 989.4 TFLOP/s) x 0.4
    alpha = float(great_circle_km(42.7, -87.9, 33.75, -84.39)) * 2.1 / 2.0e5
    comm = 2 * (1 / 2) * 8 * 140e9 / 100e9 + 2 * alpha
    f = tc / (tc + comm)
    model = 2.0 * 3600.0 / (job.end_s - job.start_s)
    validation(
        "synchronous data parallelism across two sites: simulated factor vs t_c / (t_c + t_comm) by hand",
        model=round(model, 6),
        reference=round(f, 6),
        tolerance="rel 1e-9",
        source="ring all-reduce cost (Thakur et al. 2005); docs/models/training.md §4",
        kind="theory",
    )
    assert model == pytest.approx(f, rel=1e-9)
    assert job.comm_factor == pytest.approx(f, rel=1e-9)
    assert job.comm_gpu_hours == pytest.approx(48 * 2.0 * (1 / f - 1), rel=1e-9)


def test_jobs_that_never_span_reproduce_the_pool_without_links(validation) -> None:
    # one site, two identical halls; every job fits one hall: with campus_link (packing placement, priced
    # links) the results equal those of the same pool without it
    site = _site("s", 40.0, -100.0, "US", servers=4)
    site["halls"].append(copy.deepcopy(site["halls"][0]))
    site["halls"][1]["name"] = "h2"
    base = {
        "kind": "training",
        "name": "pool",
        "target": {"site": "s"},
        "reliability": {"failures": "none"},
        "jobs": [
            {"name": f"j{i}", "gpus": 16, "model_params": 7e9, "duration_h": 3.0 + i, "submit_h": i}
            for i in range(6)
        ],
    }
    linked = dict(base, campus_link={"bandwidth_gbit_per_s": 1.0})
    a = gw.simulate(_scenario([site], base)).jobs
    b = gw.simulate(_scenario([site], linked)).jobs
    cols = ["start_s", "end_s", "gpu_hours", "useful_gpu_hours", "queue_wait_s"]
    diff = float((a[cols] - b[cols]).abs().to_numpy().max())
    validation(
        "pool with priced links whose jobs never span vs the same pool without links: max |difference|",
        model=diff,
        reference=0.0,
        tolerance="exact",
        source="construction (docs/models/training.md §4)",
        kind="invariant",
    )
    assert (b["spanned"] == "").all() and (b["comm_gpu_hours"] == 0).all()
    assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=0, atol=0)
