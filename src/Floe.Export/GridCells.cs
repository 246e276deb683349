namespace Floe.Export;

/// <summary>
/// The H3 cell of every grid point an export keeps, and the order rows are written in: by cell, then by point
/// (latitude row, then longitude column). Computed once per export and reused for every day.
/// </summary>
internal sealed class GridCells
{
    private GridCells(int resolution, int[] rows, int[] columns, long[] cells, int rowStart, int rowCount, int columnStart, int columnCount)
    {
        var run = 0;
        for (var p = 0; p < cells.Length; p++)
        {
            run = p > 0 && cells[p] == cells[p - 1] ? run + 1 : 1;
            MaxPointsPerCell = Math.Max(MaxPointsPerCell, run);
        }

        Resolution = resolution;
        Rows = rows;
        Columns = columns;
        Cells = cells;
        RowStart = rowStart;
        RowCount = rowCount;
        ColumnStart = columnStart;
        ColumnCount = columnCount;
    }

    public int Resolution { get; }

    /// <summary>Latitude index of each kept point, in row order.</summary>
    public int[] Rows { get; }

    /// <summary>Longitude index of each kept point, in row order.</summary>
    public int[] Columns { get; }

    /// <summary>H3 cell of each kept point, ascending.</summary>
    public long[] Cells { get; }

    public int Count => Cells.Length;

    /// <summary>The most grid points one cell holds (many near the poles, where meridians converge).</summary>
    public int MaxPointsPerCell { get; }

    /// <summary>The box of latitude and longitude indices that holds every kept point (what a read must cover).</summary>
    public int RowStart { get; }

    public int RowCount { get; }

    public int ColumnStart { get; }

    public int ColumnCount { get; }

    public static GridCells Compute(double[] lat, double[] lon, GeoBox? box, int resolution)
    {
        var keepRow = new bool[lat.Length];
        var keepColumn = new bool[lon.Length];
        for (var i = 0; i < lat.Length; i++)
        {
            keepRow[i] = box is null || (lat[i] >= box.South && lat[i] <= box.North);
        }

        for (var j = 0; j < lon.Length; j++)
        {
            keepColumn[j] = box is null || box.ContainsLongitude(lon[j]);
        }

        var rows = Enumerable.Range(0, lat.Length).Where(i => keepRow[i]).ToArray();
        var columns = Enumerable.Range(0, lon.Length).Where(j => keepColumn[j]).ToArray();
        var count = checked(rows.Length * columns.Length);
        var points = new Point[count];
        Parallel.For(0, rows.Length, r =>
        {
            var i = rows[r];
            var offset = r * columns.Length;
            for (var c = 0; c < columns.Length; c++)
            {
                var j = columns[c];
                points[offset + c] = new Point((long)Floe.H3.H3.LatLngToCell(lat[i], lon[j], resolution), i, j);
            }
        });
        Array.Sort(points);

        var pointRows = new int[count];
        var pointColumns = new int[count];
        var cells = new long[count];
        for (var p = 0; p < count; p++)
        {
            cells[p] = points[p].Cell;
            pointRows[p] = points[p].Row;
            pointColumns[p] = points[p].Column;
        }

        var rowStart = rows.Length == 0 ? 0 : rows[0];
        var columnStart = columns.Length == 0 ? 0 : columns[0];
        return new GridCells(resolution, pointRows, pointColumns, cells, rowStart, rows.Length == 0 ? 0 : rows[^1] - rowStart + 1,
            columnStart, columns.Length == 0 ? 0 : columns[^1] - columnStart + 1);
    }

    private readonly record struct Point(long Cell, int Row, int Column) : IComparable<Point>
    {
        public int CompareTo(Point other)
        {
            var byCell = Cell.CompareTo(other.Cell);
            if (byCell != 0)
            {
                return byCell;
            }

            var byRow = Row.CompareTo(other.Row);
            return byRow != 0 ? byRow : Column.CompareTo(other.Column);
        }
    }
}
