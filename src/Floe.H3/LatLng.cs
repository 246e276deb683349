namespace Floe.H3;

/// <summary>A point on the sphere, in degrees.</summary>
public readonly record struct LatLng(double Lat, double Lng);
