namespace Floe.H3;

/// <summary>A point or direction in 3D; points on the sphere are unit vectors (z towards the north pole).</summary>
internal readonly record struct Vec3(double X, double Y, double Z)
{
    public static Vec3 FromLatLng(double lat, double lng)
    {
        var r = Math.Cos(lat);
        return new Vec3(Math.Cos(lng) * r, Math.Sin(lng) * r, Math.Sin(lat));
    }

    /// <summary>Latitude and longitude in radians.</summary>
    public (double Lat, double Lng) ToLatLng() => (Math.Asin(Z), Math.Atan2(Y, X));

    public static double Dot(Vec3 a, Vec3 b) => (a.X * b.X) + (a.Y * b.Y) + (a.Z * b.Z);

    /// <summary>a·u + b·v, evaluated component-wise in this order so results match the reference bit for bit.</summary>
    public static Vec3 Combine(double a, Vec3 u, double b, Vec3 v) =>
        new((a * u.X) + (b * v.X), (a * u.Y) + (b * v.Y), (a * u.Z) + (b * v.Z));

    public static Vec3 Cross(Vec3 a, Vec3 b) =>
        new((a.Y * b.Z) - (a.Z * b.Y), (a.Z * b.X) - (a.X * b.Z), (a.X * b.Y) - (a.Y * b.X));

    public static double DistanceSquared(Vec3 a, Vec3 b)
    {
        var d = Combine(1.0, a, -1.0, b);
        return Dot(d, d);
    }

    public Vec3 Normalize()
    {
        var norm = Math.Sqrt(Dot(this, this));
        var s = norm > 0.0 ? 1.0 / norm : 0.0;
        return new Vec3(X * s, Y * s, Z * s);
    }
}
