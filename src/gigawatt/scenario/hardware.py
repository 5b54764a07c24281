"""Hardware: accelerators, servers, rack groups, network fabric, cooling, electrical chain, halls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    PositiveFloat,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gigawatt import catalog
from gigawatt.physics.cooling import SINK_DRY_BULB, SINK_WET_BULB
from gigawatt.physics.cooling_designs import cooling_design
from gigawatt.scenario.base import ScopeName, StrictModel, UtcDatetime

__all__ = [
    "AcceleratorSpec",
    "CoolingSpec",
    "ElectricalSpec",
    "Hall",
    "NetworkFabric",
    "RackGroup",
    "Refresh",
    "ServerSpec",
]

#: Host overhead (CPUs, memory, NICs, NVSwitch, fans) as a fraction of the server's accelerator TDP, used
#: when ``host_overhead_w`` is not given. Estimate from NVIDIA DGX H100 (10.2 kW system max, 8 x 700 W GPUs:
#: non-GPU share 4.6 kW = 0.82 of GPU TDP) and GB200 NVL72 (~120-132 kW rack, 72 x 1.2 kW GPUs: non-GPU share
#: ~0.4-0.5); we take the mid value 0.6 of GPU TDP at full load.
#: References: NVIDIA DGX H100 User Guide (2023), "System power 10.2 kW max"; NVIDIA GB200 NVL72 product brief (2024).
DEFAULT_HOST_OVERHEAD_FRAC_OF_ACCEL_TDP = 0.6
#: Server fans at full speed as a share of ``host_overhead_w`` when ``fan_max_w`` is not given, per build
#: (estimates). Air: a DGX H100's 12 fans draw ≈ 0.7-1.0 kW of its 4.6 kW non-GPU budget at full speed, and
#: fans take ≈ 10-15 % of an air-cooled server's total power at high speed (Neudorfer, eWeek 2009), i.e.
#: ≈ 20 % of a GPU server's non-accelerator power; liquid: fans only move the residual air heat
#: (memory, NICs, drives, PSUs).
FAN_SHARE_OF_HOST = {"air": 0.2, "liquid": 0.05}


class AcceleratorSpec(StrictModel):
    """An accelerator (GPU/TPU/...), as in the catalog or supplied inline by the user."""

    name: str
    """Identifier shown in results (catalog name for presets)."""
    vendor: str = "unknown"
    tdp_w: float = Field(gt=0, le=100_000)
    """Thermal design power / total graphics power [W]."""
    idle_w: float = Field(gt=0, le=100_000)
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


def _known_accelerator(v: str | AcceleratorSpec) -> str | AcceleratorSpec:
    """A catalog name in its canonical spelling (or an inline spec); an unknown name raises with the closest
    match or the known names."""
    if isinstance(v, str):
        try:
            return catalog.accelerator(v).name  # canonical spelling
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
    return v


class ServerSpec(StrictModel):
    """A server (or NVL72 compute tray): its accelerators and the rest of its power."""

    accelerator: AcceleratorRef
    """Catalog name (``H100-SXM``; see ``gigawatt catalog accelerators``) or an inline spec."""
    accelerators_per_server: int = Field(8, gt=0, le=1024)
    host_overhead_w: float | None = Field(None, ge=0, le=1_000_000)
    """Everything in the server but its accelerators at full load [W]: CPUs, memory, NICs, NVSwitch, PSU losses
    *and the server fans at full speed*, for the build named by ``cooling_variant`` (default: an air-cooled
    server, e.g. DGX H100: 10.2 kW system max − 8 × 700 W = 4,600 W). The model keeps the non-fan part and
    re-derives the fans from the hall's cooling (``docs/models/facility.md`` §2). Default 0.6 × accelerator
    TDP (estimate)."""
    fan_max_w: float | None = Field(None, ge=0, le=1_000_000)
    """Server fans at full speed [W], part of ``host_overhead_w``. Default: 20 % of ``host_overhead_w`` for an
    air-cooled build (estimate: a DGX H100's 12 fans ≈ 0.7-1.0 kW), 5 % for a liquid-cooled build (small fans
    for the memory, NICs and drives left on air; estimate)."""
    cooling_variant: Literal["air", "liquid"] = "air"
    """Which build of the server ``host_overhead_w`` and ``fan_max_w`` describe. ``air``: fans sized to carry
    all of the server's heat; in a ``rdhx`` hall the fans stay (the door cools their exhaust), in a ``dlc`` hall
    cold plates leave them ``1 − liquid_capture_frac`` of the heat (fan power scales with it), in an
    ``immersion`` hall they are removed. ``liquid``: a cold-plate build (e.g. GB200 NVL72 compute trays) whose
    figures already are the liquid-cooled server's; it needs a ``dlc`` or ``immersion`` hall."""

    @field_validator("accelerator")
    @classmethod
    def _known_accelerator(cls, v: str | AcceleratorSpec) -> str | AcceleratorSpec:
        return _known_accelerator(v)

    def accelerator_spec(self) -> AcceleratorSpec:
        """The resolved accelerator spec (catalog lookup for a name)."""
        if isinstance(self.accelerator, str):
            return AcceleratorSpec(**catalog.accelerator(self.accelerator).as_dict())
        return self.accelerator

    @model_validator(mode="after")
    def _fans_within_host(self) -> ServerSpec:
        if self.fan_max_w is not None and self.fan_max_w > self.host_power_w():
            raise ValueError(
                f"fan_max_w ({self.fan_max_w:g} W) is part of host_overhead_w and cannot exceed it "
                f"({self.host_power_w():g} W); lower fan_max_w or raise host_overhead_w"
            )
        return self

    def host_power_w(self) -> float:
        """Host overhead at full load with fans at full speed [W] (explicit, or the documented default fraction
        of accelerator TDP), for the stated ``cooling_variant``."""
        if self.host_overhead_w is not None:
            return self.host_overhead_w
        spec = self.accelerator_spec()
        return DEFAULT_HOST_OVERHEAD_FRAC_OF_ACCEL_TDP * spec.tdp_w * self.accelerators_per_server

    def fan_power_w(self) -> float:
        """Server fans at full speed of the stated build [W] (explicit, or the documented default share)."""
        if self.fan_max_w is not None:
            return self.fan_max_w
        share = FAN_SHARE_OF_HOST[self.cooling_variant]
        return share * self.host_power_w()

    def nameplate_power_w(self) -> float:
        """Server power with every accelerator at TDP plus host overhead [W]."""
        return self.accelerator_spec().tdp_w * self.accelerators_per_server + self.host_power_w()


def _check_dates(commission: dt.datetime | None, decommission: dt.datetime | None) -> None:
    if commission is not None and decommission is not None and decommission <= commission:
        raise ValueError(
            f"decommission_date ({decommission.isoformat()}) must be after commission_date "
            f"({commission.isoformat()}); swap them or drop decommission_date"
        )


def online_span(
    commission: dt.datetime | None, decommission: dt.datetime | None, start: dt.datetime, end: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """The part of ``[start, end)`` during which something commissioned/decommissioned at these dates exists
    (``None`` dates: from the start / to the end), or ``None`` when it never exists within it."""
    a = max(start, commission) if commission is not None else start
    b = min(end, decommission) if decommission is not None else end
    return (a, b) if b > a else None


class Refresh(StrictModel):
    """A GPU refresh of a rack group: at ``date`` its racks are retired and new ones installed in their place.

    Shorthand for two rack groups in one hall (``docs/models/fleet_time.md`` §1): loading expands it into the
    old group with ``decommission_date: date`` and a new group with ``commission_date: date``, appended after
    the hall's other groups. The new group is a copy of the old one with the fields given here changed.
    """

    date: UtcDatetime
    """When the old racks are retired and the new ones installed (UTC); strictly between the group's
    ``commission_date`` and ``decommission_date`` (and after the previous refresh)."""
    name: str | None = Field(None, min_length=1)
    """Name of the new rack group; default ``<group>-refresh<k>`` (``k`` = 1, 2, … for the group's first,
    second, … refresh)."""
    accelerator: AcceleratorRef | None = None
    """The new accelerator (catalog name or inline spec): the old ``server`` with its accelerator replaced;
    ``accelerators_per_server`` and ``cooling_variant`` carry over, ``host_overhead_w`` and ``fan_max_w`` (the
    old accelerator's figures) do not. Give ``server`` instead to describe the new server in full."""
    server: ServerSpec | None = None
    """The new server in full (replaces the old one); exclusive with ``accelerator``. Neither: like for like."""
    count: int | None = Field(None, gt=0, le=1_000_000)
    """Racks of the new group; default: the old group's."""
    servers_per_rack: int | None = Field(None, gt=0, le=1000)
    """Servers per rack of the new group; default: the old group's."""

    @field_validator("accelerator")
    @classmethod
    def _known_accelerator(cls, v: str | AcceleratorSpec | None) -> str | AcceleratorSpec | None:
        return None if v is None else _known_accelerator(v)

    @model_validator(mode="after")
    def _one_server(self) -> Refresh:
        if self.accelerator is not None and self.server is not None:
            raise ValueError(
                "give either accelerator (the old server with a new accelerator) or server (a new server in "
                "full), not both; put the accelerator in server.accelerator"
            )
        return self


class RackGroup(StrictModel):
    """Identical racks, simulated together as one group (arrays, not objects per GPU)."""

    name: str
    count: int = Field(gt=0, le=1_000_000)
    """Number of racks."""
    servers_per_rack: int = Field(gt=0, le=1000)
    server: ServerSpec
    commission_date: UtcDatetime | None = None
    """When the racks are installed and powered (UTC); before it they do not exist (draw nothing, serve
    nothing). ``None``: installed from the start (or from the hall's ``commission_date``). A GPU refresh is two
    rack groups in one hall: the old one with ``decommission_date`` and the new one with ``commission_date``
    at the same date (``docs/models/fleet_time.md``), or the ``refresh`` shorthand."""
    decommission_date: UtcDatetime | None = None
    """When the racks are retired (UTC); from then on they do not exist. ``None``: never within the run (or
    the hall's ``decommission_date``)."""
    refresh: list[Refresh] | None = None
    """GPU refresh(es) of this group (one mapping, or a list in date order): expanded when the hall is loaded
    into this group retired at the (first) refresh date and one new group per refresh, installed at its date
    and retired at the next refresh's (the last at this group's ``decommission_date``), exactly as if
    written by hand. A loaded scenario holds the expanded groups (``refresh`` is then empty)."""

    @field_validator("refresh", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("refresh")
    @classmethod
    def _refresh_dates(cls, v: list[Refresh] | None, info: ValidationInfo) -> list[Refresh] | None:
        if not v:
            return None
        problems = []
        c, d = info.data.get("commission_date"), info.data.get("decommission_date")
        tag = (lambda k: "date") if len(v) == 1 else (lambda k: f"[{k}].date")
        for k, r in enumerate(v):
            if c is not None and r.date <= c:
                problems.append(
                    f"{tag(k)} ({r.date.isoformat()}) is not after the group's commission_date "
                    f"({c.isoformat()}): refresh later, or give the new racks their own group"
                )
            if d is not None and r.date >= d:
                problems.append(
                    f"{tag(k)} ({r.date.isoformat()}) is not before the group's decommission_date "
                    f"({d.isoformat()}): refresh earlier, or retire the group later"
                )
            if k and r.date <= v[k - 1].date:
                problems.append(
                    f"{tag(k)} ({r.date.isoformat()}) is not after the previous refresh "
                    f"({v[k - 1].date.isoformat()}): list the refreshes in date order"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @model_validator(mode="after")
    def _dates_in_order(self) -> RackGroup:
        _check_dates(self.commission_date, self.decommission_date)
        return self

    @property
    def n_servers(self) -> int:
        return self.count * self.servers_per_rack

    @property
    def n_accelerators(self) -> int:
        return self.n_servers * self.server.accelerators_per_server

    def rack_power_kw(self) -> float:
        """Rack nameplate power [kW] (all accelerators at TDP)."""
        return self.servers_per_rack * self.server.nameplate_power_w() / 1e3


def refresh_name(group: str, k: int, refresh: Refresh | None = None) -> str:
    """Name of the rack group installed by the ``k``-th (0-based) refresh of ``group``: the refresh's
    ``name``, or ``<group>-refresh<k+1>``."""
    if refresh is not None and refresh.name:
        return refresh.name
    return f"{group}-refresh{k + 1}"


def expand_refreshes(racks: list[RackGroup]) -> list[RackGroup]:
    """Rack groups with every ``refresh`` written out: the refreshed group retired at its first refresh date
    (in place), and one new group per refresh appended after the others, installed at its date and retired at
    the next one (the last at the old group's ``decommission_date``). Each new group is the old one with the
    refresh's fields changed (:class:`Refresh`). Groups without a refresh are returned unchanged."""
    if not any(rg.refresh for rg in racks):
        return racks
    kept: list[RackGroup] = []
    added: list[RackGroup] = []
    for rg in racks:
        if not rg.refresh:
            kept.append(rg)
            continue
        base = rg.model_dump(exclude_unset=True, exclude={"refresh", "commission_date", "decommission_date"})
        old = dict(base)
        if rg.commission_date is not None:
            old["commission_date"] = rg.commission_date
        old["decommission_date"] = rg.refresh[0].date
        kept.append(RackGroup.model_validate(old))
        server = base["server"]
        for k, r in enumerate(rg.refresh):
            if r.server is not None:
                server = r.server.model_dump(exclude_unset=True)
            elif r.accelerator is not None:
                server = {
                    key: val for key, val in server.items() if key not in ("host_overhead_w", "fan_max_w")
                }
                server["accelerator"] = (
                    r.accelerator
                    if isinstance(r.accelerator, str)
                    else r.accelerator.model_dump(exclude_unset=True)
                )
            new: dict[str, Any] = {**base, "name": refresh_name(rg.name, k, r), "server": server}
            if r.count is not None:
                new["count"] = r.count
            if r.servers_per_rack is not None:
                new["servers_per_rack"] = r.servers_per_rack
            new["commission_date"] = r.date
            end = rg.refresh[k + 1].date if k + 1 < len(rg.refresh) else rg.decommission_date
            if end is not None:
                new["decommission_date"] = end
            try:
                added.append(RackGroup.model_validate(new))
            except ValidationError as exc:
                msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"refresh of rack group {rg.name!r} ({new['name']}): {msgs}") from None
            base = {**base, "count": new["count"], "servers_per_rack": new["servers_per_rack"]}
    return kept + added


class NetworkFabric(StrictModel):
    """Scale-out network of a hall (used by the training performance model)."""

    kind: Literal["infiniband", "roce", "ethernet"] = "infiniband"
    link_speed_gbps: float = Field(400.0, gt=0, le=100_000)
    """Per-accelerator scale-out link speed [Gb/s]."""
    oversubscription: float = Field(1.0, ge=1.0, le=100)
    """Oversubscription ratio of the fabric (1.0 = non-blocking fat tree)."""
    power_w_per_gpu: float | None = Field(None, ge=0)
    """Switches and optics of the fabric per accelerator [W], counted in IT power. Default by ``kind``:
    ``infiniband`` 45, ``roce``/``ethernet`` 40 (estimates from a three-tier fat tree, ≈ 5 switch ports per GPU
    port at ≈ 20-25 W per 400G port plus optics; ``docs/models/facility.md`` §2)."""


#: Default cooling design (:func:`gigawatt.physics.cooling_designs.cooling_designs`) per technology.
DEFAULT_COOLING_DESIGN = {"air": "air", "rdhx": "rdhx", "dlc": "dlc", "immersion": "immersion"}
#: Cooling designs allowed per technology.
COOLING_DESIGNS = {
    "air": ("air", "air_legacy", "air_evaporative", "air_chillerless"),
    "rdhx": ("rdhx",),
    "dlc": ("dlc", "dlc_dry", "dlc_chillerless"),
    "immersion": ("immersion",),
}


class CoolingSpec(StrictModel):
    """Cooling technology of a hall, its plant design and the main set points.

    PUE, WUE and throttling are *outputs* of the facility physics (``docs/models/facility.md``); the fields
    here describe the equipment. Unset fields take the design preset's values.
    """

    technology: Literal["air", "rdhx", "dlc", "immersion"]
    """``air`` (CRAH/AHU), ``rdhx`` (rear-door heat exchanger), ``dlc`` (direct-to-chip liquid), ``immersion``;
    see ``gigawatt catalog cooling``."""
    design: (
        Literal[
            "air",
            "air_legacy",
            "air_evaporative",
            "air_chillerless",
            "rdhx",
            "dlc",
            "dlc_dry",
            "dlc_chillerless",
            "immersion",
        ]
        | None
    ) = None
    """Plant design preset (default: the technology's name). ``air``: CRAH on 18 °C chilled water, water-side
    economizer, towers, chillers; ``air_legacy``: constant-speed CRACs on 7 °C water, chillers, no economizer;
    ``air_evaporative``: 100 % outside air with direct evaporative cooling and a DX trim for hot humid hours;
    ``air_chillerless``: the same with no mechanical cooling at all (supply floats to 30 °C, then throttling);
    ``rdhx``: rear doors on 18 °C water; ``dlc``: W32 warm water on towers with trim chillers; ``dlc_dry``: W35
    water on dry coolers, no chillers on the liquid loop, no water use; ``dlc_chillerless``: W40 dry coolers and
    evaporative outside air for the residual air, no mechanical cooling at all; ``immersion``: single-phase
    tanks on dry coolers."""
    liquid_capture_frac: float | None = Field(None, ge=0, le=1)
    """Share of IT heat taken by liquid (cold plates, doors, tanks); the rest goes to room air."""
    supply_air_c: float | None = Field(None, ge=10, le=40)
    """Server inlet (supply air) set point [°C]."""
    liquid_supply_c: float | None = Field(None, ge=5, le=60)
    """Facility/technology water supply set point of the liquid loop [°C] (e.g. 32 for ASHRAE W32)."""
    liquid_supply_max_c: float | None = Field(None, ge=5, le=65)
    """Highest liquid supply the accelerators accept [°C]; above it the hall throttles."""
    heat_rejection: Literal["tower", "dry_cooler"] | None = None
    """Heat rejection of the liquid loop: evaporative cooling towers or dry coolers (no water use)."""
    chillers: bool | None = None
    """Whether the liquid loop has (trim) chillers."""
    capacity_frac: float = Field(1.25, gt=0, le=3)
    """Installed cooling capacity per kW of design heat (1.25: N+1 with 4+1 units all running; < 1 models an
    under-sized or partly failed plant)."""
    cycles_of_concentration: float = Field(5.0, gt=1, le=20)
    """Cooling-tower cycles of concentration (blowdown = evaporation / (cycles − 1))."""
    max_rack_density_kw: float | None = Field(None, gt=0, le=10_000)
    """Override of the technology's maximum rack power [kW] (default from the catalog)."""

    @model_validator(mode="after")
    def _design_matches_technology(self) -> CoolingSpec:
        if self.design is not None and self.design not in COOLING_DESIGNS[self.technology]:
            raise ValueError(
                f"design {self.design!r} is not a {self.technology} design; use one of "
                f"{', '.join(COOLING_DESIGNS[self.technology])}"
            )
        if (
            self.liquid_supply_c is not None
            and self.liquid_supply_max_c is not None
            and self.liquid_supply_max_c <= self.liquid_supply_c
        ):
            raise ValueError("liquid_supply_max_c must be above liquid_supply_c")
        if self.liquid_capture_frac:
            if not (
                cooling_design(self.resolved_design()).liquid_loop is not None
                or self.plant_overrides()["liquid_loop"]
            ):
                raise ValueError(
                    f"liquid_capture_frac: the {self.resolved_design()!r} design has no liquid loop to take "
                    "heat; drop liquid_capture_frac or use a liquid technology (rdhx, dlc, immersion)"
                )
        return self

    def resolved_design(self) -> str:
        """The plant design preset name."""
        return self.design or DEFAULT_COOLING_DESIGN[self.technology]

    def resolved_liquid_capture_frac(self) -> float:
        """Liquid capture share: the field, or the design preset's value."""
        if self.liquid_capture_frac is not None:
            return self.liquid_capture_frac
        return cooling_design(self.resolved_design()).liquid_capture_frac

    def resolved_max_rack_density_kw(self) -> float:
        if self.max_rack_density_kw is not None:
            return self.max_rack_density_kw
        return float(catalog.cooling(self.technology)["max_rack_density_kw"])

    def plant_overrides(self) -> dict[str, Any]:
        """Overrides of the design preset for :func:`gigawatt.physics.cooling.build_cooling_plant`."""
        out: dict[str, Any] = {"air": {}, "liquid_loop": {}}
        if self.liquid_capture_frac is not None:
            out["liquid_capture_frac"] = self.liquid_capture_frac
        if self.supply_air_c is not None:
            out["air"]["supply_air_c"] = self.supply_air_c
        if self.liquid_supply_c is not None:
            out["liquid_loop"]["supply_c"] = self.liquid_supply_c
        if self.liquid_supply_max_c is not None:
            out["liquid_loop"]["supply_max_c"] = self.liquid_supply_max_c
        if self.heat_rejection is not None:
            sink = SINK_WET_BULB if self.heat_rejection == "tower" else SINK_DRY_BULB
            out["liquid_loop"]["sink"] = sink
            out["liquid_loop"]["condenser_sink"] = sink
        if self.chillers is not None:
            out["liquid_loop"]["has_chiller"] = int(self.chillers)
            if self.chillers:
                out["liquid_loop"].setdefault("chiller_capacity_frac", 0.5)
        return out


class ElectricalSpec(StrictModel):
    """Electrical chain from the medium-voltage transformers to the rack (losses are physics outputs)."""

    redundancy: Literal["N", "N+1", "2N"] = "2N"
    """Redundancy of UPS, PDUs and transformers: installed capacity = design load x 1, 1.25 (4+1) or 2;
    every unit shares the load at a lower partial load (higher no-load losses)."""
    ups: Literal["double_conversion", "modern", "eco", "none"] = "modern"
    """UPS type: ``double_conversion`` (legacy, 91-96 %), ``modern`` (transformerless, ~96.5-97 %), ``eco``
    (multi-mode / rack batteries, ~99 %), ``none``. Curves in ``docs/models/facility.md``."""
    pdu: Literal["standard", "legacy"] = "standard"
    """Power distribution: ``standard`` (~1 % loss), ``legacy`` (transformer-based PDUs, ~2 %)."""
    other_frac: float = Field(0.01, ge=0, lt=0.2)
    """Lighting, offices, security and other house load as a fraction of the design IT power, constant in time
    (estimate, ~1 %; LBNL 2016 data center report)."""


class Hall(StrictModel):
    """A data hall: one cooling technology, one electrical chain, one network fabric, rack groups."""

    name: ScopeName
    """Hall name (no ``/`` or ``:``; results name its columns ``<site>/<hall>:<column>``)."""
    cooling: CoolingSpec
    electrical: ElectricalSpec = ElectricalSpec()
    fabric: NetworkFabric = NetworkFabric()
    racks: list[RackGroup] = Field(min_length=1)
    max_racks: int | None = Field(None, gt=0, le=10_000_000)
    """Floor capacity in racks; the rack groups must fit."""
    design_it_capacity_mw: float | None = Field(None, gt=0, le=100_000)
    """Electrical/cooling design capacity of the hall [MW IT]; rack nameplate power must fit."""
    storage_power_w_per_gpu: float = Field(10.0, ge=0)
    """Storage systems serving the hall per accelerator [W], counted in IT power (estimate: ≈ 1 PB of
    all-flash per 1,000 GPUs at ≈ 10 kW)."""
    commission_date: UtcDatetime | None = None
    """When the hall (its cooling plant, electrical chain and house load) goes into service (UTC); before it
    the hall draws nothing. Its rack groups come online at their own ``commission_date`` (default: the
    hall's), never before the hall. The plant is sized for the hall's full design from the start, so a
    partly built hall runs its plant at part load (``docs/models/fleet_time.md``). ``None``: in service from
    the start."""
    decommission_date: UtcDatetime | None = None
    """When the hall goes out of service (UTC), with every rack group in it. ``None``: never within the run."""

    @field_validator("racks")
    @classmethod
    def _expand_refreshes(cls, v: list[RackGroup]) -> list[RackGroup]:
        return expand_refreshes(v)

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
        for i, rg in enumerate(self.racks):
            if rg.server.cooling_variant == "liquid" and self.cooling.technology not in ("dlc", "immersion"):
                problems.append(
                    f"racks[{i}] ({rg.name}): a liquid-cooled server (server.cooling_variant: liquid) needs "
                    f"cold-plate or immersion cooling; use cooling.technology: dlc or immersion, or describe "
                    f"the air-cooled build (server.cooling_variant: air)"
                )
        if (
            self.commission_date is not None
            and self.decommission_date is not None
            and self.decommission_date <= self.commission_date
        ):
            problems.append(
                f"decommission_date ({self.decommission_date.isoformat()}) must be after commission_date "
                f"({self.commission_date.isoformat()}); swap them or drop decommission_date"
            )
        names = [rg.name for rg in self.racks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            problems.append(f"rack group names must be unique within a hall; duplicated: {', '.join(dup)}")
        n_racks = self._peak_installed(lambda rg: float(rg.count))
        if self.max_racks is not None and n_racks > self.max_racks:
            problems.append(f"{n_racks:.0f} racks installed at once do not fit in max_racks={self.max_racks}")
        if self.design_it_capacity_mw is not None:
            mw = self.nameplate_it_power_mw()
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

    def server_fan_kept_frac(self, server: ServerSpec) -> float:
        """Share of a server's stated full-speed fan power (:meth:`ServerSpec.fan_power_w`) installed in this
        hall, from the share of the server's heat it must still move through air.

        ===================  ==============  ====================================================
        stated build         hall            kept fans
        ===================  ==============  ====================================================
        ``air``              ``air``         1
        ``air``              ``rdhx``        1 (the door cools the server exhaust; door fans are
                                             facility cooling power)
        ``air``              ``dlc``         ``1 − c`` (cold plates take ``c`` =
                                             ``liquid_capture_frac``; airflow and fan count scale
                                             with the air heat, each fan at its design point)
        ``liquid``           ``dlc``         1 (the stated figures are the cold-plate build's)
        any                  ``immersion``   0 (fans are removed before immersion)
        ===================  ==============  ====================================================
        """
        tech = self.cooling.technology
        if tech == "immersion":
            return 0.0
        if tech == "dlc" and server.cooling_variant == "air":
            return 1.0 - self.cooling.resolved_liquid_capture_frac()
        return 1.0

    def _peak_installed(self, value: Any) -> float:
        """Largest sum of ``value(rack group)`` over the rack groups installed at the same time (a refreshed
        group and its replacement are never installed together)."""
        if all(rg.commission_date is None and rg.decommission_date is None for rg in self.racks):
            return float(sum(value(rg) for rg in self.racks))
        starts = {rg.commission_date for rg in self.racks}
        best = 0.0
        for t in starts:
            best = max(
                best,
                sum(
                    value(rg)
                    for rg in self.racks
                    if (rg.commission_date is None or (t is not None and rg.commission_date <= t))
                    and (rg.decommission_date is None or t is None or rg.decommission_date > t)
                ),
            )
        return best

    def nameplate_it_power_mw(self) -> float:
        """Rack nameplate IT power [MW] of the rack groups installed at the same time, at the most (all of
        them when no group has dates)."""
        return self._peak_installed(lambda rg: rg.count * rg.rack_power_kw()) / 1e3
