"""The digital-twin county (模拟县): a seeded, vectorised simulator of a county's residents,
their incomes, shocks and the official monitoring process, writing department feeds in the
data standard and the ground truth kept apart for evaluation."""

from dixian.simulate.calibration import Statistic, calibration_statistics
from dixian.simulate.noise import NOISE_TYPES, PROFILES, NoiseProfile, noise_profile
from dixian.simulate.params import COUNTY_TYPES, SimulationParams, params_for_county_type
from dixian.simulate.run import SimulationResult, reference_dir, simulate, simulation_report_dir
from dixian.simulate.truth import TRUTH_FILES
from dixian.simulate.world import PLANTED_PATTERNS, PlantingRates, run_world

__all__ = [
    "COUNTY_TYPES",
    "NOISE_TYPES",
    "PLANTED_PATTERNS",
    "PROFILES",
    "TRUTH_FILES",
    "NoiseProfile",
    "PlantingRates",
    "SimulationParams",
    "SimulationResult",
    "Statistic",
    "calibration_statistics",
    "noise_profile",
    "params_for_county_type",
    "reference_dir",
    "run_world",
    "simulate",
    "simulation_report_dir",
]
