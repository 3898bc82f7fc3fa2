/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim API's methods (proto/berth/shim/v1/shim.proto), one handler each, in the shape
 * server.h's method table calls: check the request, make the process calls, fill the reply.
 */
#ifndef BERTH_SHIM_TASK_H
#define BERTH_SHIM_TASK_H

#include <protobuf-c/protobuf-c.h>

struct berth_err;
struct shim;
struct shim_reply;

int shim_task_create(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                     struct berth_err *err);
int shim_task_start(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                    struct berth_err *err);
int shim_task_exec(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                   struct berth_err *err);
int shim_task_kill(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                   struct berth_err *err);
int shim_task_delete(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                     struct berth_err *err);
int shim_task_state(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                    struct berth_err *err);
int shim_task_list(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                   struct berth_err *err);
int shim_task_pause(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                    struct berth_err *err);
int shim_task_resume(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                     struct berth_err *err);
int shim_task_pids(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                   struct berth_err *err);
int shim_task_update(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                     struct berth_err *err);
int shim_task_resize(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                     struct berth_err *err);
int shim_task_close_io(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                       struct berth_err *err);
int shim_task_stats(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                    struct berth_err *err);
int shim_task_connect(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                      struct berth_err *err);

#endif
