#!/usr/bin/env bash
# The project's test command: installs what the tests need on a fresh Debian machine, checks formatting,
# builds the solution and runs every test project. Ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# Oracles the tests call: Debian's python3 with numcodecs, h5py, netCDF4 and grpcio (a gRPC peer not written here),
# the zstd command, hdf5 and netCDF tools, nginx, azure-storage-blob (a Blob client not written here); Node packages under
# tests/node (Azurite among them).
packages=(python3-numcodecs python3-numpy zstd python3-h5py python3-netcdf4 python3-grpcio python3-grpc-tools hdf5-tools netcdf-bin nginx-light python3-xarray python3-zarr python3-fsspec python3-aiohttp python3-azure-storage python3-yaml)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Node oracles (h3-js, DuckDB, hyparquet), exact versions in tests/node/package.json and its lock file. `npm install`,
# not `npm ci`: npm 11's ci rejects a lock file that lists DuckDB's bindings for other platforms without entries.
if ! (cd tests/node && npm ls --depth=0 >/dev/null 2>&1); then
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error)
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore Orleans.sln
dotnet format Orleans.sln --verify-no-changes --no-restore
dotnet build Orleans.sln -c Release --no-restore

log=$(mktemp)
status=0
dotnet test Orleans.sln -c Release --no-build 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
