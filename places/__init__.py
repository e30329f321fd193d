"""The gazetteer (GeoNames cities): library layer, imports nothing of the project's."""
