"""Physics core: pure numpy/scipy functions of arrays (power, cooling, electrical, energy, carbon, water)."""
