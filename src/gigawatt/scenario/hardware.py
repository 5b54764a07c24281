"""Hardware: accelerators, servers, rack groups, network fabric, cooling, electrical chain, halls."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PositiveFloat, PositiveInt, Tag, field_validator, model_validator

from gigawatt.scenario.base import StrictModel

__all__ = [
    "AcceleratorSpec",
    "CoolingSpec",
    "ElectricalSpec",
    "Hall",
    "NetworkFabric",
    "RackGroup",
    "ServerSpec",
]

#: Host overhead (CPUs, memory, NICs, NVSwitch, fans) as a fraction of the server's accelerator TDP, used
#: when ``host_overhead_w`` is not given. Estimate from NVIDIA DGX H100 (10.2 kW system max, 8 x 700 W GPUs:
#: non-GPU share 4.6 kW = 0.82 of GPU TDP) and GB200 NVL72 (~120-132 kW rack, 72 x 1.2 kW GPUs: non-GPU share
#: ~0.4-0.5); we take the mid value 0.6 of GPU TDP at full load.
#: References: NVIDIA DGX H100 User Guide (2023), "System power 10.2 kW max"; NVIDIA GB200 NVL72 product brief (2024).
DEFAULT_HOST_OVERHEAD_FRAC_OF_ACCEL_TDP = 0.6


class AcceleratorSpec(StrictModel):
    """An accelerator (GPU/TPU/...), as in the catalog or supplied inline by the user."""

    name: str
    """Identifier shown in results (catalog name for presets)."""
    vendor: str = "unknown"
    tdp_w: PositiveFloat
    """Thermal design power / total graphics power [W]."""
    idle_w: PositiveFloat
    """Power when powered on and idle [W]."""
    bf16_dense_tflops: PositiveFloat
    """Dense (non-sparse) BF16 peak [TFLOP/s]."""
    fp8_dense_tflops: PositiveFloat | None = None
    """Dense FP8 peak [TFLOP/s]; ``None`` when not supported."""
    hbm_gb: PositiveFloat
    """High-bandwidth memory capacity [GB]."""
    hbm_bandwidth_tbps: PositiveFloat
    """HBM bandwidth [TB/s]."""
    training_power_frac: float = Field(0.85, gt=0, le=1)
    """Mean power during large-scale training as a fraction of TDP."""
    list_price_usd: PositiveFloat | None = None
    """List or street price [USD], when public."""
    source: str = "user-supplied"
    """Citation for these figures."""

    @model_validator(mode="after")
    def _idle_below_tdp(self) -> AcceleratorSpec:
        if self.idle_w >= self.tdp_w:
            raise ValueError(f"idle_w ({self.idle_w} W) must be below tdp_w ({self.tdp_w} W)")
        return self


def _accelerator_tag(value: Any) -> str:
    return "name" if isinstance(value, str) else "spec"


AcceleratorRef = Annotated[
    Annotated[str, Tag("name")] | Annotated[AcceleratorSpec, Tag("spec")],
    Discriminator(_accelerator_tag),
]


class ServerSpec(StrictModel):
    """A server (or NVL72 compute tray): its accelerators and the rest of its power."""

    accelerator: AcceleratorRef
    """Catalog name (``H100-SXM``; see ``gigawatt catalog accelerators``) or an inline spec."""
    accelerators_per_server: PositiveInt = 8
    host_overhead_w: float | None = Field(None, ge=0)
    """CPUs, memory, NICs, fans, switches inside the server at full load [W]; default 0.6 x accelerator TDP."""

    @field_validator("accelerator")
    @classmethod
    def _known_accelerator(cls, v: str | AcceleratorSpec) -> str | AcceleratorSpec:
        if isinstance(v, str):
            from gigawatt import catalog

            try:
                return catalog.accelerator(v).name  # canonical spelling
            except KeyError as exc:
                raise ValueError(str(exc.args[0])) from None
        return v

    def accelerator_spec(self) -> AcceleratorSpec:
        """The resolved accelerator spec (catalog lookup for a name)."""
        from gigawatt import catalog

        return (
            catalog.accelerator(self.accelerator) if isinstance(self.accelerator, str) else self.accelerator
        )

    def host_power_w(self) -> float:
        """Host overhead at full load [W] (explicit, or the documented default fraction of accelerator TDP)."""
        if self.host_overhead_w is not None:
            return self.host_overhead_w
        spec = self.accelerator_spec()
        return DEFAULT_HOST_OVERHEAD_FRAC_OF_ACCEL_TDP * spec.tdp_w * self.accelerators_per_server

    def nameplate_power_w(self) -> float:
        """Server power with every accelerator at TDP plus host overhead [W]."""
        return self.accelerator_spec().tdp_w * self.accelerators_per_server + self.host_power_w()


class RackGroup(StrictModel):
    """Identical racks, simulated together as one group (arrays, not objects per GPU)."""

    name: str
    count: PositiveInt
    """Number of racks."""
    servers_per_rack: PositiveInt
    server: ServerSpec

    @property
    def n_servers(self) -> int:
        return self.count * self.servers_per_rack

    @property
    def n_accelerators(self) -> int:
        return self.n_servers * self.server.accelerators_per_server

    def rack_power_kw(self) -> float:
        """Rack nameplate power [kW] (all accelerators at TDP)."""
        return self.servers_per_rack * self.server.nameplate_power_w() / 1e3


class NetworkFabric(StrictModel):
    """Scale-out network of a hall (used by the training performance model)."""

    kind: Literal["infiniband", "roce", "ethernet"] = "infiniband"
    link_speed_gbps: PositiveFloat = 400.0
    """Per-accelerator scale-out link speed [Gb/s]."""
    oversubscription: float = Field(1.0, ge=1.0)
    """Oversubscription ratio of the fabric (1.0 = non-blocking fat tree)."""


class CoolingSpec(StrictModel):
    """Cooling technology of a hall."""

    technology: Literal["air", "rdhx", "dlc", "immersion"]
    """``air`` (CRAH + chillers with economizer), ``rdhx`` (rear-door heat exchanger), ``dlc`` (direct-to-chip
    liquid), ``immersion``; see ``gigawatt catalog cooling``."""
    design_pue: float | None = Field(None, gt=1.0, lt=3.0)
    """Design-point PUE; default from the cooling catalog."""
    max_rack_density_kw: PositiveFloat | None = None
    """Override of the technology's maximum rack power [kW] (default from the catalog)."""

    def resolved_max_rack_density_kw(self) -> float:
        from gigawatt import catalog

        if self.max_rack_density_kw is not None:
            return self.max_rack_density_kw
        return float(catalog.cooling(self.technology)["max_rack_density_kw"])

    def resolved_design_pue(self) -> float:
        from gigawatt import catalog

        if self.design_pue is not None:
            return self.design_pue
        return float(catalog.cooling(self.technology)["design_pue"])


class ElectricalSpec(StrictModel):
    """Electrical chain from the utility transformer to the rack."""

    redundancy: Literal["N", "N+1", "2N"] = "2N"
    """UPS/distribution redundancy."""
    loss_frac: float = Field(0.06, ge=0, lt=0.5)
    """Design electrical loss (transformers, UPS, PDUs) as a fraction of IT power. Default 0.06: typical
    double-conversion UPS at 94-96 % plus ~1-2 % transformer and distribution losses (The Green Grid, WP#22
    "Electrical efficiency modeling for data centers", 2008; LBNL "United States Data Center Energy Usage
    Report", 2016, Table 8)."""
    other_frac: float = Field(0.01, ge=0, lt=0.2)
    """Lighting, offices, security and other non-IT, non-cooling load as a fraction of IT power (estimate,
    ~1 %; LBNL 2016 data center report)."""


class Hall(StrictModel):
    """A data hall: one cooling technology, one electrical chain, one network fabric, rack groups."""

    name: str
    cooling: CoolingSpec
    electrical: ElectricalSpec = ElectricalSpec()
    fabric: NetworkFabric = NetworkFabric()
    racks: list[RackGroup] = Field(min_length=1)
    max_racks: PositiveInt | None = None
    """Floor capacity in racks; the rack groups must fit."""
    design_it_capacity_mw: PositiveFloat | None = None
    """Electrical/cooling design capacity of the hall [MW IT]; rack nameplate power must fit."""

    @model_validator(mode="after")
    def _physically_possible(self) -> Hall:
        problems = []
        limit_kw = self.cooling.resolved_max_rack_density_kw()
        for i, rg in enumerate(self.racks):
            kw = rg.rack_power_kw()
            if kw > limit_kw:
                problems.append(
                    f"racks[{i}] ({rg.name}): rack power {kw:.1f} kW exceeds the {limit_kw:g} kW that "
                    f"{self.cooling.technology} cooling can remove; use a denser cooling technology "
                    f"(e.g. cooling.technology: dlc) or fewer servers_per_rack"
                )
        names = [rg.name for rg in self.racks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            problems.append(f"rack group names must be unique within a hall; duplicated: {', '.join(dup)}")
        n_racks = sum(rg.count for rg in self.racks)
        if self.max_racks is not None and n_racks > self.max_racks:
            problems.append(f"{n_racks} racks do not fit in max_racks={self.max_racks}")
        if self.design_it_capacity_mw is not None:
            mw = sum(rg.count * rg.rack_power_kw() for rg in self.racks) / 1e3
            if mw > self.design_it_capacity_mw:
                problems.append(
                    f"rack nameplate power {mw:.2f} MW exceeds design_it_capacity_mw={self.design_it_capacity_mw}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def n_accelerators(self) -> int:
        return sum(rg.n_accelerators for rg in self.racks)

    def nameplate_it_power_mw(self) -> float:
        return sum(rg.count * rg.rack_power_kw() for rg in self.racks) / 1e3
