"""Microsoft's azure-storage-blob (Debian python3-azure-storage) as an independent Blob client for the tests.

usage: azure_oracle.py CONNECTION_STRING COMMAND ARGS...
  put CONTAINER BLOB FILE         upload a file (creating the container), print {"etag": ...}
  get CONTAINER BLOB FILE         download a blob into FILE, print {"etag": ..., "size": ...}
  list CONTAINER PREFIX           print the blob names under PREFIX as a JSON list
  props CONTAINER BLOB            print {"etag", "size", "metadata"}
  sas CONTAINER PERMISSIONS       print a container SAS token (e.g. racwdl) valid for an hour
  public CONTAINER                make the container's blobs publicly readable
"""
import datetime
import json
import sys

from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

connection, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
service = BlobServiceClient.from_connection_string(connection)

if command == "put":
    container, blob, path = args
    client = service.get_container_client(container)
    if not client.exists():
        client.create_container()
    with open(path, "rb") as f:
        result = client.get_blob_client(blob).upload_blob(f, overwrite=True)
    print(json.dumps({"etag": result["etag"]}))
elif command == "get":
    container, blob, path = args
    downloader = service.get_blob_client(container, blob).download_blob()
    with open(path, "wb") as f:
        downloader.readinto(f)
    print(json.dumps({"etag": downloader.properties.etag, "size": downloader.properties.size}))
elif command == "list":
    container, prefix = args
    print(json.dumps([b.name for b in service.get_container_client(container).list_blobs(name_starts_with=prefix)]))
elif command == "props":
    container, blob = args
    p = service.get_blob_client(container, blob).get_blob_properties()
    print(json.dumps({"etag": p.etag, "size": p.size, "metadata": p.metadata}))
elif command == "sas":
    container, permissions = args
    print(generate_container_sas(
        service.account_name, container, account_key=service.credential.account_key,
        permission=ContainerSasPermissions.from_string(permissions),
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)))
elif command == "public":
    (container,) = args
    service.get_container_client(container).set_container_access_policy(signed_identifiers={}, public_access="blob")
else:
    sys.exit(f"unknown command {command}")
