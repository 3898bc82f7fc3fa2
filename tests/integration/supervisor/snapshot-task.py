#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Containers whose root is a snapshot, made through the gRPC API as any client would, for
tests that do not go through images (31-images-run.bats).

usage: snapshot-task.py --address SOCK --gen DIR container ID SNAPSHOT_KEY SPEC.JSON
       snapshot-task.py --address SOCK --gen DIR task ID
       snapshot-task.py --address SOCK --gen DIR remove-snapshot KEY

DIR holds the *_pb2.py modules (protoc --python_out). `container` creates the container
(snapshotter overlayfs, no rootfs), `task` creates its task without starting it, and
`remove-snapshot` removes a snapshot. Each prints "ok", or the gRPC status code name and its
details on one line and exits 1.
"""
import argparse
import sys

import grpc

NS = [("berth-namespace", "default")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("op", choices=["container", "task", "remove-snapshot"])
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    sys.path.insert(0, a.gen)
    from berth.supervisor.v1 import containers_pb2 as cpb
    from berth.supervisor.v1 import snapshots_pb2 as spb
    from berth.supervisor.v1 import tasks_pb2 as tpb

    ch = grpc.insecure_channel("unix://" + a.address)

    def call(service, method, req, resp_cls):
        f = ch.unary_unary(
            "/berth.supervisor.v1.%s/%s" % (service, method),
            request_serializer=type(req).SerializeToString,
            response_deserializer=resp_cls.FromString,
        )
        return f(req, metadata=NS, timeout=60)

    try:
        if a.op == "container":
            cid, key, spec = a.args
            with open(spec, "rb") as f:
                c = cpb.Container(id=cid, spec=f.read(), snapshotter="overlayfs", snapshot_key=key)
            call("Containers", "Create", cpb.CreateContainerRequest(container=c),
                 cpb.CreateContainerResponse)
        elif a.op == "task":
            (cid,) = a.args
            call("Tasks", "Create", tpb.CreateTaskRequest(container_id=cid),
                 tpb.CreateTaskResponse)
        else:
            (key,) = a.args
            call("Snapshots", "Remove", spb.RemoveSnapshotRequest(key=key),
                 spb.RemoveSnapshotResponse)
    except grpc.RpcError as e:
        print("%s %s" % (e.code().name, e.details()))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
