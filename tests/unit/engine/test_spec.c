/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/spec: tables of ContainerCreate bodies and image configs, each with
 * what the generated config.json must hold at given paths (command resolution, environment,
 * users from a temporary rootfs with passwd and group files, binds, mounts, tmpfs, resources,
 * capabilities, privileged, namespaces, security options, seccomp), and a table of bad
 * inputs with the errno and the message each must give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/spec/spec.h"

/* ---- Fixtures ----------------------------------------------------------------------------- */

static char tmp[] = "/tmp/test-engine-spec.XXXXXX";
static char rootfs[300], evil_rootfs[300], data_dir[300], vol_dir[300];

static void
write_file(const char *dir, const char *rel, const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/%s", dir, rel);
    cleanup_free char *parent = xstrdup(path);

    *strrchr(parent, '/') = '\0';
    if (berth_fs_mkdir_p(parent, 0755, &err) < 0 ||
        berth_fs_write_atomic(path, text, strlen(text), 0644, &err) < 0)
        fail_msg("write %s: %s", path, err.msg);
}

static int
setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
    snprintf(evil_rootfs, sizeof(evil_rootfs), "%s/evil", tmp);
    snprintf(data_dir, sizeof(data_dir), "%s/data", tmp);
    snprintf(vol_dir, sizeof(vol_dir), "%s/volumes", tmp);
    write_file(rootfs, "etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "# a comment\n"
               "\n"
               "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
               "bob:x:1001:100::/home/bob:/bin/sh\n"
               "nohome:x:1002:1002:::/bin/sh\n");
    write_file(rootfs, "etc/group",
               "root:x:0:\n"
               "users:x:100:\n"
               "alice:x:1000:\n"
               "wheel:x:10:alice,bob\n"
               "audio:x:29:bob\n"
               "video:x:44:\n");
    /* An image whose /etc/passwd is an absolute symlink: it must resolve inside the rootfs. */
    write_file(evil_rootfs, "inside/passwd", "mallory:x:4242:4242::/m:/bin/sh\n");
    mkdir(data_dir, 0755);
    mkdir(vol_dir, 0755);
    return 0;
}

static int
teardown(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    (void)state;
    berth_fs_rm_rf(tmp, &err);
    berth_err_clear(&err);
    return 0;
}

/* JSON written with single quotes, for readability: every ' becomes ", and $DATA, $ROOT are
 * replaced by the fixture paths. */
static struct json_object *
json(const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    size_t cap = strlen(text) * 2 + 1024;
    cleanup_free char *s = xzalloc(cap);
    char *o = s;

    for (const char *p = text; *p; p++) {
        if (*p == '\'') {
            *o++ = '"';
        } else if (strncmp(p, "$DATA", 5) == 0) {
            o += sprintf(o, "%s", data_dir);
            p += 4;
        } else {
            *o++ = *p;
        }
    }
    struct json_object *obj = berth_json_parse(s, strlen(s), &err);
    if (!obj)
        fail_msg("bad test JSON `%s`: %s", s, err.msg);
    return obj;
}

static int n_volumes;

static char *
volume_cb(void *data, const char *name, const char *dest, struct berth_err *err)
{
    (void)data;
    (void)dest;
    if (strcmp(name, "broken") == 0)
        return berth_err_fail(err, ENOENT, "no such volume"), NULL;
    n_volumes++;
    return *name ? xasprintf("%s/%s", vol_dir, name) : xasprintf("%s/anon", vol_dir);
}

static char *
ns_cb(void *data, const char *ref, const char *ns, struct berth_err *err)
{
    (void)data;
    if (strcmp(ref, "other") != 0)
        return berth_err_fail(err, ENOENT, "no such container `%s`", ref), NULL;
    return xasprintf("/proc/4321/ns/%s", ns);
}

/* Generate from body (and image), with NetworkMode none added when HostConfig has none. */
static int
generate(const char *body, const char *image, const char *root, struct json_object **out,
         struct berth_err *err)
{
    cleanup_json struct json_object *b = json(body);
    cleanup_json struct json_object *img = image ? json(image) : NULL;
    struct json_object *hc;
    struct engine_spec_input in = {
        .create = b,
        .image_config = img,
        .id = "0123456789abcdef0123",
        .name = "web",
        .rootfs = root ? root : rootfs,
        .hostname_path = "/run/berth/h/hostname",
        .hosts_path = "/run/berth/h/hosts",
        .resolv_conf_path = "/run/berth/h/resolv.conf",
        .volume = volume_cb,
        .container_ns = ns_cb,
        .init_path = "/bin/sh",
    };

    if (!json_object_object_get_ex(b, "HostConfig", &hc)) {
        hc = json_object_new_object();
        json_object_object_add(b, "HostConfig", hc);
    }
    if (json_object_is_type(hc, json_type_object) &&
        !json_object_object_get_ex(hc, "NetworkMode", NULL))
        json_object_object_add(hc, "NetworkMode", json_object_new_string("none"));
    return engine_spec_generate(&in, out, err);
}

/* Follow a path: "linux.resources.memory.limit", "process.args[0]", and "mounts[/data]" for
 * the mount (or namespace, by type) whose destination is /data. NULL when absent. */
static struct json_object *
lookup(struct json_object *o, const char *path)
{
    cleanup_free char *copy = xstrdup(path);

    for (char *save = NULL, *seg = strtok_r(copy, ".", &save); seg && o;
         seg = strtok_r(NULL, ".", &save)) {
        char *br = strchr(seg, '[');
        if (br)
            *br++ = '\0';
        if (*seg && !json_object_object_get_ex(o, seg, &o))
            return NULL;
        if (!br)
            continue;
        br[strcspn(br, "]")] = '\0';
        if (!json_object_is_type(o, json_type_array))
            return NULL;
        if (*br >= '0' && *br <= '9') {
            o = json_object_array_get_idx(o, (size_t)atoi(br));
            continue;
        }
        struct json_object *found = NULL;
        for (size_t i = 0; i < json_object_array_length(o) && !found; i++) {
            struct json_object *e = json_object_array_get_idx(o, i), *k;
            if ((json_object_object_get_ex(e, "destination", &k) ||
                 json_object_object_get_ex(e, "type", &k)) &&
                strcmp(json_object_get_string(k), br) == 0)
                found = e;
        }
        o = found;
    }
    return o;
}

/* One expectation: path holds want (JSON); want "!" means absent; "~X" an array holding X;
 * "#N" an array of N items. */
struct check {
    const char *path, *want;
};

static void
check(struct json_object *spec, const char *name, const struct check *c)
{
    struct json_object *got = lookup(spec, c->path);

    if (strcmp(c->want, "!") == 0) {
        if (got)
            fail_msg("%s: %s: expected absent, got %s", name, c->path,
                     json_object_to_json_string(got));
        return;
    }
    if (!got)
        fail_msg("%s: %s: absent, expected %s", name, c->path, c->want);
    if (c->want[0] == '#') {
        if (!json_object_is_type(got, json_type_array) ||
            json_object_array_length(got) != (size_t)atoi(c->want + 1))
            fail_msg("%s: %s: expected %s items, got %s", name, c->path, c->want + 1,
                     json_object_to_json_string(got));
        return;
    }
    cleanup_json struct json_object *want = json(c->want + (c->want[0] == '~'));
    if (c->want[0] == '~') {
        for (size_t i = 0;
             json_object_is_type(got, json_type_array) && i < json_object_array_length(got); i++)
            if (json_object_equal(json_object_array_get_idx(got, i), want))
                return;
        fail_msg("%s: %s: %s does not hold %s", name, c->path, json_object_to_json_string(got),
                 c->want + 1);
    }
    if (!json_object_equal(got, want))
        fail_msg("%s: %s: expected %s, got %s", name, c->path, c->want,
                 json_object_to_json_string(got));
}

struct ok_case {
    const char *name, *body, *image;
    struct check checks[12];
};

static void
run_ok_cases(const struct ok_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_json struct json_object *spec = NULL;
        if (generate(cases[i].body, cases[i].image, NULL, &spec, &err) < 0)
            fail_msg("%s: %s", cases[i].name, err.msg);
        assert_null(err.msg);
        for (const struct check *c = cases[i].checks; c->path; c++)
            check(spec, cases[i].name, c);
    }
}

/* ---- Command, environment, working directory ---------------------------------------------- */

static void
test_engine_spec_generate_command(void **state)
{
    static const char img[] = "{'Entrypoint':['/entry'],'Cmd':['img-cmd','x']}";
    static const struct ok_case cases[] = {
        {"image only", "{}", img, {{"process.args", "['/entry','img-cmd','x']"}}},
        {"Cmd replaces the image's Cmd",
         "{'Cmd':['mine']}",
         img,
         {{"process.args", "['/entry','mine']"}}},
        {"Entrypoint drops the image's Cmd",
         "{'Entrypoint':['/other']}",
         img,
         {{"process.args", "['/other']"}}},
        {"Entrypoint and Cmd",
         "{'Entrypoint':['/other'],'Cmd':['a']}",
         img,
         {{"process.args", "['/other','a']"}}},
        {"empty Entrypoint keeps the image's Cmd",
         "{'Entrypoint':['']}",
         img,
         {{"process.args", "['img-cmd','x']"}}},
        {"empty-string Entrypoint",
         "{'Entrypoint':'','Cmd':['sh']}",
         img,
         {{"process.args", "['sh']"}}},
        {"string Cmd", "{'Cmd':'echo'}", NULL, {{"process.args", "['echo']"}}},
        {"no image",
         "{'Entrypoint':'/bin/sh','Cmd':['-c','x']}",
         NULL,
         {{"process.args", "['/bin/sh','-c','x']"}}},
        {"Init wraps the command",
         "{'Cmd':['sleep','1'],'HostConfig':{'Init':true}}",
         NULL,
         {{"process.args", "['/sbin/docker-init','--','sleep','1']"},
          {"mounts[/sbin/docker-init].source", "'/bin/sh'"},
          {"mounts[/sbin/docker-init].options", "['bind','ro']"}}},
    };
    (void)state;
    run_ok_cases(cases, ARRAY_SIZE(cases));
}

static void
test_engine_spec_generate_env(void **state)
{
    static const char img[] = "{'Cmd':['x'],'Env':['A=image','B=image','PATH=/img/bin']}";
    static const struct ok_case cases[] = {
        {"defaults",
         "{'Cmd':['x']}",
         NULL,
         {{"process.env", "['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',"
                          "'HOSTNAME=0123456789ab']"},
          {"process.cwd", "'/'"},
          {"process.terminal", "false"}}},
        {"container overrides image by key",
         "{'Env':['B=mine','C=new']}",
         img,
         {{"process.env", "['PATH=/img/bin','HOSTNAME=0123456789ab','A=image','B=mine','C=new']"}}},
        {"an item without = removes",
         "{'Env':['A']}",
         img,
         {{"process.env", "['PATH=/img/bin','HOSTNAME=0123456789ab','B=image']"}}},
        {"tty adds TERM",
         "{'Cmd':['x'],'Tty':true,'Env':['HOME=/h'],'Hostname':'box'}",
         NULL,
         {{"process.terminal", "true"},
          {"process.env", "['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',"
                          "'HOSTNAME=box','TERM=xterm','HOME=/h']"},
          {"hostname", "'box'"}}},
        {"WorkingDir from the image",
         "{}",
         "{'Cmd':['x'],'WorkingDir':'/srv'}",
         {{"process.cwd", "'/srv'"}}},
        {"WorkingDir of the container wins",
         "{'WorkingDir':'/app'}",
         "{'Cmd':['x'],'WorkingDir':'/srv'}",
         {{"process.cwd", "'/app'"}}},
    };
    (void)state;
    run_ok_cases(cases, ARRAY_SIZE(cases));
}

/* ---- Users ---------------------------------------------------------------------------------- */

static void
test_engine_spec_generate_user(void **state)
{
    static const struct ok_case cases[] = {
        {"root by default",
         "{'Cmd':['x']}",
         NULL,
         {{"process.user", "{'uid':0,'gid':0,'additionalGids':[0]}"}}},
        {"name",
         "{'Cmd':['x'],'User':'alice'}",
         NULL,
         {{"process.user", "{'uid':1000,'gid':1000,'additionalGids':[1000,10]}"},
          {"process.env", "#2"}}},
        {"name with member groups",
         "{'Cmd':['x'],'User':'bob'}",
         NULL,
         {{"process.user", "{'uid':1001,'gid':100,'additionalGids':[100,10,29]}"}}},
        {"uid found in passwd",
         "{'Cmd':['x'],'User':'1000'}",
         NULL,
         {{"process.user", "{'uid':1000,'gid':1000,'additionalGids':[1000,10]}"}}},
        {"uid not in passwd",
         "{'Cmd':['x'],'User':'5000'}",
         NULL,
         {{"process.user", "{'uid':5000,'gid':0,'additionalGids':[0]}"}}},
        {"uid:gid",
         "{'Cmd':['x'],'User':'5000:6000'}",
         NULL,
         {{"process.user", "{'uid':5000,'gid':6000}"}}},
        {"name:group",
         "{'Cmd':['x'],'User':'alice:video'}",
         NULL,
         {{"process.user", "{'uid':1000,'gid':44,'additionalGids':[10,44]}"}}},
        {"user from the image",
         "{}",
         "{'Cmd':['x'],'User':'bob:users'}",
         {{"process.user.uid", "1001"}}},
        {"GroupAdd",
         "{'Cmd':['x'],'User':'5000','HostConfig':{'GroupAdd':['audio','777']}}",
         NULL,
         {{"process.user", "{'uid':5000,'gid':0,'additionalGids':[0,29,777]}"}}},
    };
    (void)state;
    run_ok_cases(cases, ARRAY_SIZE(cases));
}

/* /etc/passwd of the evil rootfs is a symlink to /inside/passwd: read inside that rootfs. */
static void
test_engine_spec_generate_user_in_root(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *spec = NULL;
    cleanup_free char *link = xasprintf("%s/etc", evil_rootfs);
    cleanup_free char *passwd = xasprintf("%s/etc/passwd", evil_rootfs);

    (void)state;
    mkdir(link, 0755);
    assert_int_equal(symlink("/inside/passwd", passwd), 0);
    assert_int_equal(generate("{'Cmd':['x'],'User':'mallory'}", NULL, evil_rootfs, &spec, &err), 0);
    check(spec, "in root", &(struct check){"process.user.uid", "4242"});
    /* A user of the host only is not found. */
    assert_int_equal(generate("{'Cmd':['x'],'User':'daemon'}", NULL, evil_rootfs, &spec, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, "Config.User: unknown user `daemon` (not in /etc/passwd)");
    berth_err_clear(&err);
}

/* ---- Mounts --------------------------------------------------------------------------------- */

static void
test_engine_spec_generate_mounts(void **state)
{
    static const struct ok_case cases[] = {
        {"defaults",
         "{'Cmd':['x']}",
         NULL,
         {{"mounts", "#10"},
          {"mounts[/proc].type", "'proc'"},
          {"mounts[/dev/shm].options", "['nosuid','noexec','nodev','mode=1777','size=67108864']"},
          {"mounts[/sys].options", "['nosuid','noexec','nodev','ro']"},
          {"mounts[/sys/fs/cgroup].options", "['ro','nosuid','noexec','nodev']"},
          {"mounts[/etc/hosts]",
           "{'destination':'/etc/hosts','type':'bind','source':'/run/berth/h/hosts',"
           "'options':['rbind','rprivate']}"},
          {"root.readonly", "false"}}},
        {"binds",
         "{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/data','$DATA:/ro:ro,rshared',"
         "'$DATA:/z:Z']}}",
         NULL,
         {{"mounts[/data]",
           "{'destination':'/data','type':'bind','source':'$DATA','options':['rbind','rprivate']}"},
          {"mounts[/ro].options", "['rbind','rshared','ro']"},
          {"mounts[/z].options", "['rbind','rprivate']"}}},
        {"named volume bind",
         "{'Cmd':['x'],'HostConfig':{'Binds':['cache:/cache:ro']}}",
         NULL,
         {{"mounts[/cache].source", "'/tmp/volumes-placeholder'"}}},
        {"Mounts of every type",
         "{'Cmd':['x'],'HostConfig':{'Mounts':[{'Type':'bind','Source':'$DATA','Target':'/b',"
         "'ReadOnly':true,'BindOptions':{'Propagation':'rslave'}},{'Type':'tmpfs','Target':'/t',"
         "'TmpfsOptions':{'SizeBytes':1048576,'Mode':448}}]}}",
         NULL,
         {{"mounts[/b].options", "['rbind','rslave','ro']"},
          {"mounts[/t].type", "'tmpfs'"},
          {"mounts[/t].options", "['nosuid','nodev','noexec','rw','size=1048576','mode=700']"}}},
        {"Tmpfs map and a user /dev/shm",
         "{'Cmd':['x'],'HostConfig':{'Tmpfs':{'/run':'exec,size=1m','/dev/shm':''}}}",
         NULL,
         {{"mounts[/run].options", "['nosuid','nodev','exec','size=1m']"},
          {"mounts[/dev/shm].options", "['nosuid','nodev','noexec']"},
          {"mounts", "#11"}}},
        {"read-only rootfs and ShmSize",
         "{'Cmd':['x'],'HostConfig':{'ReadonlyRootfs':true,'ShmSize':1024}}",
         NULL,
         {{"root.readonly", "true"},
          {"mounts[/etc/hosts].options", "['rbind','rprivate','ro']"},
          {"mounts[/dev/shm].options", "['nosuid','noexec','nodev','mode=1777','size=1024']"}}},
        {"parents first",
         "{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/a/b/c','$DATA:/a']}}",
         NULL,
         {{"mounts[10].destination", "'/a'"}, {"mounts[11].destination", "'/a/b/c'"}}},
        {"image volumes",
         "{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/mine']}}",
         "{'Volumes':{'/vol':{},'/mine':{}}}",
         {{"mounts[/vol].source", "'/tmp/volumes-placeholder'"},
          {"mounts[/mine].source", "'$DATA'"}}},
        {"ipc none has no /dev/shm",
         "{'Cmd':['x'],'HostConfig':{'IpcMode':'none'}}",
         NULL,
         {{"mounts[/dev/shm]", "!"}, {"linux.namespaces[ipc]", "{'type':'ipc'}"}}},
        {"ipc host binds the host's",
         "{'Cmd':['x'],'HostConfig':{'IpcMode':'host'}}",
         NULL,
         {{"mounts[/dev/shm].source", "'/dev/shm'"},
          {"linux.namespaces[ipc]", "!"},
          {"mounts[/dev/mqueue]", "!"}}},
    };
    (void)state;
    /* The volume callback's paths depend on the fixture: patch the placeholders. */
    struct ok_case copy[ARRAY_SIZE(cases)];
    cleanup_free char *cache = xasprintf("'%s/cache'", vol_dir);
    cleanup_free char *anon = xasprintf("'%s/anon'", vol_dir);
    memcpy(copy, cases, sizeof(cases));
    for (size_t i = 0; i < ARRAY_SIZE(copy); i++)
        for (struct check *c = copy[i].checks; c->path; c++)
            if (strcmp(c->want, "'/tmp/volumes-placeholder'") == 0)
                c->want = strstr(c->path, "cache") ? cache : anon;
    n_volumes = 0;
    run_ok_cases(copy, ARRAY_SIZE(copy));
    assert_int_equal(n_volumes, 2);
}

/* ---- Resources ------------------------------------------------------------------------------ */

static void
test_engine_spec_generate_resources(void **state)
{
    static const struct ok_case cases[] = {
        {"none",
         "{'Cmd':['x']}",
         NULL,
         {{"linux.resources.memory", "{}"},
          {"linux.resources.cpu", "{}"},
          {"linux.resources.pids", "!"},
          {"linux.cgroupsPath", "'/berth/0123456789abcdef0123'"}}},
        {"memory",
         "{'Cmd':['x'],'HostConfig':{'Memory':67108864,'MemoryReservation':33554432,"
         "'MemorySwappiness':10,'OomKillDisable':true}}",
         NULL,
         {{"linux.resources.memory",
           "{'limit':67108864,'swap':134217728,'reservation':33554432,'swappiness':10,"
           "'disableOOMKiller':true}"}}},
        {"swap given and unlimited",
         "{'Cmd':['x'],'HostConfig':{'Memory':67108864,'MemorySwap':-1}}",
         NULL,
         {{"linux.resources.memory", "{'limit':67108864,'swap':-1}"}}},
        {"NanoCpus",
         "{'Cmd':['x'],'HostConfig':{'NanoCpus':500000000,'CpuShares':512}}",
         NULL,
         {{"linux.resources.cpu", "{'period':100000,'quota':50000,'shares':512}"}}},
        {"quota and cpuset",
         "{'Cmd':['x'],'HostConfig':{'CpuQuota':20000,'CpuPeriod':50000,'CpusetCpus':'0',"
         "'CpusetMems':'0'}}",
         NULL,
         {{"linux.resources.cpu", "{'period':50000,'quota':20000,'cpus':'0','mems':'0'}"}}},
        {"pids, blkio, cgroup parent",
         "{'Cmd':['x'],'HostConfig':{'PidsLimit':64,'BlkioWeight':300,'CgroupParent':'mine/'}}",
         NULL,
         {{"linux.resources.pids", "{'limit':64}"},
          {"linux.resources.blockIO", "{'weight':300}"},
          {"linux.cgroupsPath", "'/mine/0123456789abcdef0123'"}}},
        {"ulimits and oom score",
         "{'Cmd':['x'],'HostConfig':{'Ulimits':[{'Name':'nproc','Soft':10,'Hard':20},"
         "{'Name':'nofile','Soft':100,'Hard':200}],'OomScoreAdj':500}}",
         NULL,
         {{"process.rlimits", "#2"},
          {"process.rlimits[1]", "{'type':'RLIMIT_NPROC','hard':20,'soft':10}"},
          {"process.rlimits[0]", "{'type':'RLIMIT_NOFILE','hard':200,'soft':100}"},
          {"process.oomScoreAdj", "500"}}},
        {"sysctls",
         "{'Cmd':['x'],'HostConfig':{'Sysctls':{'net.ipv4.ip_forward':'1',"
         "'kernel.shmmax':'100000'}}}",
         NULL,
         {{"linux.sysctl", "{'net.ipv4.ip_forward':'1','kernel.shmmax':'100000'}"}}},
        {"devices",
         "{'Cmd':['x'],'HostConfig':{'Devices':[{'PathOnHost':'/dev/null',"
         "'PathInContainer':'/dev/mynull','CgroupPermissions':'rw'}]}}",
         NULL,
         {{"linux.devices[0].path", "'/dev/mynull'"},
          {"linux.devices[0].major", "1"},
          {"linux.devices[0].minor", "3"},
          {"linux.resources.devices",
           "~{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}"},
          {"linux.resources.devices[0]", "{'allow':false,'type':'a','access':'rwm'}"}}},
    };
    (void)state;
    run_ok_cases(cases, ARRAY_SIZE(cases));
}

/* ---- Security and namespaces ---------------------------------------------------------------- */

static void
test_engine_spec_generate_security(void **state)
{
    static const struct ok_case cases[] = {
        {"defaults",
         "{'Cmd':['x']}",
         NULL,
         {{"process.capabilities.bounding", "#14"},
          {"process.capabilities.effective", "~'CAP_NET_RAW'"},
          {"process.capabilities.inheritable", "!"},
          {"process.noNewPrivileges", "!"},
          {"process.oomScoreAdj", "!"},
          {"linux.maskedPaths", "~'/proc/kcore'"},
          {"linux.readonlyPaths", "~'/proc/sys'"},
          {"linux.seccomp.defaultAction", "'SCMP_ACT_ERRNO'"},
          {"process.rlimits[0].type", "'RLIMIT_NOFILE'"}}},
        {"CapAdd and CapDrop with and without CAP_",
         "{'Cmd':['x'],'HostConfig':{'CapAdd':['sys_admin','CAP_NET_ADMIN'],"
         "'CapDrop':['NET_RAW','cap_chown']}}",
         NULL,
         {{"process.capabilities.bounding", "#14"},
          {"process.capabilities.bounding", "~'CAP_SYS_ADMIN'"},
          {"process.capabilities.permitted", "~'CAP_NET_ADMIN'"},
          {"linux.seccomp.syscalls",
           "~{'names':['bpf','clone','clone3','fanotify_init','fsconfig','fsmount','fsopen',"
           "'fspick','lookup_dcookie','mount','mount_setattr','move_mount',"
           "'name_to_handle_at','open_tree','perf_event_open','quotactl','quotactl_fd',"
           "'setns','syslog','umount','umount2','unshare'],'action':'SCMP_ACT_ALLOW'}"}}},
        {"drop ALL, add one",
         "{'Cmd':['x'],'HostConfig':{'CapDrop':['ALL'],'CapAdd':['KILL']}}",
         NULL,
         {{"process.capabilities.bounding", "['CAP_KILL']"}}},
        {"privileged",
         "{'Cmd':['x'],'HostConfig':{'Privileged':true}}",
         NULL,
         {{"process.capabilities.bounding", "~'CAP_SYS_ADMIN'"},
          {"linux.seccomp", "!"},
          {"linux.maskedPaths", "!"},
          {"linux.readonlyPaths", "!"},
          {"mounts[/sys].options", "['nosuid','noexec','nodev']"},
          {"linux.resources.devices", "[{'allow':true,'type':'a','access':'rwm'}]"},
          {"linux.devices", "~{'path':'/dev/null','type':'c','major':1,'minor':3,"
                            "'fileMode':438,'uid':0,'gid':0}"}}},
        {"security options",
         "{'Cmd':['x'],'HostConfig':{'SecurityOpt':['no-new-privileges','seccomp=unconfined',"
         "'label=disable','apparmor=unconfined']}}",
         NULL,
         {{"process.noNewPrivileges", "true"}, {"linux.seccomp", "!"}}},
        {"no-new-privileges:false",
         "{'Cmd':['x'],'HostConfig':{'SecurityOpt':["
         "'no-new-privileges:false']}}",
         NULL,
         {{"process.noNewPrivileges", "!"}}},
        {"a Docker-format seccomp profile",
         "{'Cmd':['x'],'HostConfig':{'SecurityOpt':['seccomp={\\'defaultAction\\':"
         "\\'SCMP_ACT_ERRNO\\',\\'archMap\\':[{\\'architecture\\':\\'SCMP_ARCH_X86_64\\',"
         "\\'subArchitectures\\':[\\'SCMP_ARCH_X86\\']}],\\'syscalls\\':[{\\'names\\':"
         "[\\'read\\'],\\'action\\':\\'SCMP_ACT_ALLOW\\'},{\\'name\\':\\'mount\\',\\'action\\':"
         "\\'SCMP_ACT_ALLOW\\',\\'includes\\':{\\'caps\\':[\\'CAP_SYS_ADMIN\\']}}]}']}}",
         NULL,
         {{"linux.seccomp",
           "{'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],'syscalls':[{'names':['read'],"
           "'action':'SCMP_ACT_ALLOW'}],'defaultAction':'SCMP_ACT_ERRNO'}"}}},
        {"namespaces by default",
         "{'Cmd':['x']}",
         NULL,
         {{"linux.namespaces[mount]", "{'type':'mount'}"},
          {"linux.namespaces[network]", "{'type':'network'}"},
          {"linux.namespaces[pid]", "{'type':'pid'}"},
          {"linux.namespaces[uts]", "{'type':'uts'}"},
          {"hostname", "'0123456789ab'"}}},
        {"host network, pid, another container's ipc",
         "{'Cmd':['x'],'HostConfig':{'NetworkMode':'host','PidMode':'host',"
         "'IpcMode':'container:other'}}",
         NULL,
         {{"linux.namespaces[network]", "!"},
          {"linux.namespaces[pid]", "!"},
          {"linux.namespaces[uts]", "!"},
          {"hostname", "!"},
          {"linux.namespaces[ipc]", "{'type':'ipc','path':'/proc/4321/ns/ipc'}"},
          {"mounts[/sys].type", "'bind'"}}},
        {"domainname",
         "{'Cmd':['x'],'Hostname':'h','Domainname':'example.org'}",
         NULL,
         {{"domainname", "'example.org'"}}},
    };
    (void)state;
    run_ok_cases(cases, ARRAY_SIZE(cases));
}

/* ---- Errors --------------------------------------------------------------------------------- */

struct err_case {
    const char *body, *image;
    int code;
    const char *msg; /* the message, or its start when it ends in '*' */
};

static void
test_engine_spec_generate_errors(void **state)
{
    static const struct err_case cases[] = {
        {"{'Cmd':['x'],'HostConfig':{'Memory':'1g'}}", NULL, EINVAL,
         "HostConfig.Memory: expected an integer, got a string"},
        {"{'Cmd':['x'],'HostConfig':{'Memory':1.5}}", NULL, EINVAL,
         "HostConfig.Memory: expected an integer, got a number"},
        {"{'Cmd':['x'],'HostConfig':[]}", NULL, EINVAL,
         "Config.HostConfig: expected an object, got an array"},
        {"{'Cmd':{}}", NULL, EINVAL, "Config.Cmd: expected an array of strings, got an object"},
        {"{'Cmd':['a',1]}", NULL, EINVAL, "Config.Cmd[1]: expected a string, got an integer"},
        {"{'Cmd':['x'],'Env':'A=1'}", NULL, EINVAL, "Config.Env: expected an array, got a string"},
        {"{'Cmd':['x'],'Env':['=1']}", NULL, EINVAL, "Config.Env[0]: invalid variable `=1`"},
        {"{}", NULL, EINVAL, "no command specified*"},
        {"{'Entrypoint':['']}", "{'Entrypoint':['/e']}", EINVAL, "no command specified*"},
        {"{'Cmd':['x'],'User':'carol'}", NULL, EINVAL,
         "Config.User: unknown user `carol` (not in /etc/passwd)"},
        {"{'Cmd':['x'],'User':'alice:nogroup'}", NULL, EINVAL,
         "Config.User: unknown group `nogroup` (not in /etc/group)"},
        {"{'Cmd':['x'],'User':':'}", NULL, EINVAL, "Config.User: invalid user `:`"},
        {"{'Cmd':['x'],'HostConfig':{'GroupAdd':['nope']}}", NULL, EINVAL,
         "HostConfig.GroupAdd: unknown group `nope` (not in /etc/group)"},
        {"{'Cmd':['x'],'WorkingDir':'rel'}", NULL, EINVAL,
         "Config.WorkingDir: `rel` is not an absolute path"},
        {"{'Cmd':['x'],'HostConfig':{'NetworkMode':'bridge'}}", NULL, ENOTSUP,
         "HostConfig.NetworkMode: `bridge` is not supported yet (only none and host)"},
        {"{'Cmd':['x'],'HostConfig':{'NetworkMode':''}}", NULL, ENOTSUP,
         "HostConfig.NetworkMode: `default` is not supported yet (only none and host)"},
        {"{'Cmd':['x'],'HostConfig':{'IpcMode':'weird'}}", NULL, EINVAL,
         "HostConfig.IpcMode: invalid mode `weird`"},
        {"{'Cmd':['x'],'HostConfig':{'PidMode':'container:ghost'}}", NULL, ENOENT,
         "HostConfig.PidMode: no such container `ghost`"},
        {"{'Cmd':['x'],'HostConfig':{'NetworkMode':'host'},'Hostname':'h'}", NULL, EINVAL,
         "Config.Hostname: conflicts with the host's UTS namespace*"},
        {"{'Cmd':['x'],'HostConfig':{'CapAdd':['CAP_FLY']}}", NULL, EINVAL,
         "HostConfig.CapAdd: unknown capability `CAP_FLY`"},
        {"{'Cmd':['x'],'HostConfig':{'CapDrop':'ALL'}}", NULL, EINVAL,
         "HostConfig.CapDrop: expected an array, got a string"},
        {"{'Cmd':['x'],'HostConfig':{'SecurityOpt':['seccomp=/nonexistent.json']}}", NULL, ENOENT,
         "HostConfig.SecurityOpt: seccomp profile*"},
        {"{'Cmd':['x'],'HostConfig':{'SecurityOpt':['seccomp={']}}", NULL, EINVAL,
         "HostConfig.SecurityOpt: seccomp profile*"},
        {"{'Cmd':['x'],'HostConfig':{'SecurityOpt':['no-new-privileges=maybe']}}", NULL, EINVAL,
         "HostConfig.SecurityOpt: no-new-privileges takes true or false, not `maybe`"},
        {"{'Cmd':['x'],'HostConfig':{'SecurityOpt':['bogus']}}", NULL, EINVAL,
         "HostConfig.SecurityOpt: invalid option `bogus`"},
        {"{'Cmd':['x'],'HostConfig':{'Memory':1024}}", NULL, EINVAL,
         "HostConfig.Memory: the minimum is 6 MiB (6291456)"},
        {"{'Cmd':['x'],'HostConfig':{'Memory':67108864,'MemorySwap':1000}}", NULL, EINVAL,
         "HostConfig.MemorySwap: must not be less than HostConfig.Memory"},
        {"{'Cmd':['x'],'HostConfig':{'Memory':67108864,'MemoryReservation':167108864}}", NULL,
         EINVAL, "HostConfig.MemoryReservation: must not be more than HostConfig.Memory"},
        {"{'Cmd':['x'],'HostConfig':{'NanoCpus':1000000000,'CpuQuota':5000}}", NULL, EINVAL,
         "HostConfig.NanoCpus: conflicts with CpuQuota and CpuPeriod"},
        {"{'Cmd':['x'],'HostConfig':{'NanoCpus':5}}", NULL, EINVAL,
         "HostConfig.NanoCpus: the range is 0.01 to*"},
        {"{'Cmd':['x'],'HostConfig':{'CpusetCpus':'0-a'}}", NULL, EINVAL,
         "HostConfig.CpusetCpus: invalid list `0-a`"},
        {"{'Cmd':['x'],'HostConfig':{'BlkioWeight':5}}", NULL, EINVAL,
         "HostConfig.BlkioWeight: the range is 10 to 1000"},
        {"{'Cmd':['x'],'HostConfig':{'CgroupParent':'/a/../../b'}}", NULL, EINVAL,
         "HostConfig.CgroupParent: `/a/../../b` contains `..`"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['/nonexistent-src:/d']}}", NULL, ENOENT,
         "HostConfig.Binds[0]: bind source `/nonexistent-src`"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['$DATA']}}", NULL, EINVAL, "HostConfig.Binds[0]: `*"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:rel']}}", NULL, EINVAL,
         "HostConfig.Binds[0]: destination `rel` is not an absolute path"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/d:bogus']}}", NULL, EINVAL,
         "HostConfig.Binds[0]: unknown option `bogus`"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/']}}", NULL, EINVAL,
         "HostConfig.Binds[0]: cannot mount over `/`"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['$DATA:/d','$DATA:/d/']}}", NULL, EINVAL,
         "HostConfig.Binds[1]: duplicate mount point `/d`"},
        {"{'Cmd':['x'],'HostConfig':{'Binds':['broken:/d']}}", NULL, ENOENT,
         "HostConfig.Binds[0]: volume `broken`: no such volume"},
        {"{'Cmd':['x'],'HostConfig':{'Mounts':[{'Type':'npipe','Target':'/x'}]}}", NULL, EINVAL,
         "HostConfig.Mounts[0].Type: `npipe` is not bind, volume or tmpfs"},
        {"{'Cmd':['x'],'HostConfig':{'Mounts':[{'Type':'bind','Source':'rel','Target':'/x'}]}}",
         NULL, EINVAL, "HostConfig.Mounts[0].Source: `rel` is not an absolute path"},
        {"{'Cmd':['x'],'HostConfig':{'Mounts':[{'Type':'tmpfs'}]}}", NULL, EINVAL,
         "HostConfig.Mounts[0].Target: required"},
        {"{'Cmd':['x'],'HostConfig':{'Mounts':[{'Type':'tmpfs','Target':'/t','TmpfsOptions':"
         "{'SizeBytes':-1}}]}}",
         NULL, EINVAL, "HostConfig.Mounts[0].TmpfsOptions.SizeBytes: must not be negative"},
        {"{'Cmd':['x'],'HostConfig':{'Mounts':['x']}}", NULL, EINVAL,
         "HostConfig.Mounts[0]: expected an object, got a string"},
        {"{'Cmd':['x'],'HostConfig':{'Tmpfs':{'/t':1}}}", NULL, EINVAL,
         "HostConfig.Tmpfs./t: expected a string, got an integer"},
        {"{'Cmd':['x'],'HostConfig':{'ShmSize':-1}}", NULL, EINVAL,
         "HostConfig.ShmSize: must not be negative"},
        {"{'Cmd':['x'],'HostConfig':{'Sysctls':{'kernel.hostname':'x'}}}", NULL, EINVAL,
         "HostConfig.Sysctls: `kernel.hostname` is not a namespaced sysctl"},
        {"{'Cmd':['x'],'HostConfig':{'NetworkMode':'host','Sysctls':{'net.core.somaxconn':'1'}}}",
         NULL, EINVAL,
         "HostConfig.Sysctls: `net.core.somaxconn` needs a private network namespace"},
        {"{'Cmd':['x'],'HostConfig':{'Ulimits':[{'Name':'nofile','Soft':10,'Hard':5}]}}", NULL,
         EINVAL, "HostConfig.Ulimits[0]: soft limit 10 must not exceed hard limit 5"},
        {"{'Cmd':['x'],'HostConfig':{'Ulimits':[{'Name':'bogus','Soft':1,'Hard':1}]}}", NULL,
         EINVAL, "HostConfig.Ulimits[0].Name: unknown ulimit `bogus`"},
        {"{'Cmd':['x'],'HostConfig':{'OomScoreAdj':1001}}", NULL, EINVAL,
         "HostConfig.OomScoreAdj: 1001 is outside -1000..1000"},
        {"{'Cmd':['x'],'HostConfig':{'Devices':[{'PathOnHost':'/etc/passwd'}]}}", NULL, EINVAL,
         "HostConfig.Devices[0].PathOnHost: `/etc/passwd` is not a device"},
        {"{'Cmd':['x'],'HostConfig':{'Devices':[{'PathOnHost':'/dev/null',"
         "'CgroupPermissions':'rwx'}]}}",
         NULL, EINVAL,
         "HostConfig.Devices[0].CgroupPermissions: `rwx` is not a combination of r, w and m"},
        {"{'Cmd':['x'],'HostConfig':{'UsernsMode':'private'}}", NULL, ENOTSUP,
         "HostConfig.UsernsMode: `private` is not supported yet"},
        {"{'Cmd':['x']}", "{'Volumes':{'rel':{}}}", EINVAL,
         "Image.Config.Volumes: destination `rel` is not an absolute path"},
        {"{'Cmd':['x']}", "[]", EINVAL, "the image config: expected an object, got an array"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct json_object *spec = NULL;
        int r = generate(cases[i].body, cases[i].image, NULL, &spec, &err);
        if (r == 0) {
            json_object_put(spec);
            fail_msg("case %zu `%s`: no error", i, cases[i].body);
        }
        assert_null(spec);
        size_t n = strlen(cases[i].msg);
        bool prefix = cases[i].msg[n - 1] == '*';
        cleanup_free char *want = xstrdup(cases[i].msg);
        cleanup_free char *got = xstrdup(err.msg ? err.msg : "(none)");
        /* $DATA in a message stands for the fixture path. */
        if (prefix ? strncmp(got, want, n - 1) != 0 : strcmp(got, want) != 0)
            fail_msg("case %zu `%s`: expected `%s`, got `%s`", i, cases[i].body, want, got);
        if (err.code != cases[i].code)
            fail_msg("case %zu: expected errno %d, got %d (%s)", i, cases[i].code, err.code, got);
        berth_err_clear(&err);
    }
}

/* Without a volume callback, volumes are refused; without a namespace callback, so are
 * container:<ref> modes; a missing body or id is EINVAL. */
static void
test_engine_spec_generate_no_callbacks(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *b =
        json("{'Cmd':['x'],'HostConfig':{'NetworkMode':'none','Binds':['v:/v']}}");
    struct json_object *spec = NULL;
    struct engine_spec_input in = {.create = b, .id = "abc", .rootfs = rootfs};

    (void)state;
    assert_int_equal(engine_spec_generate(&in, &spec, &err), -1);
    assert_int_equal(err.code, ENOTSUP);
    assert_string_equal(err.msg,
                        "HostConfig.Binds[0]: volumes are not supported here (volume for `/v`)");
    berth_err_clear(&err);

    /* Init without an init binary. */
    cleanup_json struct json_object *b2 =
        json("{'Cmd':['x'],'HostConfig':{'NetworkMode':'none','Init':true}}");
    in.create = b2;
    in.init_path = "/nonexistent/docker-init";
    assert_int_equal(engine_spec_generate(&in, &spec, &err), -1);
    assert_int_equal(err.code, ENOTSUP);
    assert_string_equal(err.msg, "HostConfig.Init: no init binary (docker-init, tini-static or "
                                 "tini) is installed");
    berth_err_clear(&err);

    in.id = "../escape";
    in.create = b2;
    in.init_path = NULL;
    assert_int_equal(engine_spec_generate(&in, &spec, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, "container id `../escape` is not a valid name");
    berth_err_clear(&err);

    in.id = NULL;
    assert_int_equal(engine_spec_generate(&in, &spec, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_null(spec);
}

/* SecurityOpt seccomp=<path>: a profile file read by the engine. */
static void
test_engine_spec_generate_seccomp_file(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *spec = NULL;
    cleanup_free char *body = NULL;

    (void)state;
    write_file(tmp, "profile.json",
               "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ptrace\"],"
               "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}");
    body = xasprintf("{'Cmd':['x'],'HostConfig':{'SecurityOpt':['seccomp=%s/profile.json']}}", tmp);
    if (generate(body, NULL, NULL, &spec, &err) < 0)
        fail_msg("%s", err.msg);
    check(spec, "seccomp file",
          &(struct check){"linux.seccomp",
                          "{'defaultAction':'SCMP_ACT_ALLOW','architectures':[],'syscalls':"
                          "[{'names':['ptrace'],'action':'SCMP_ACT_ERRNO','errnoRet':1}]}"});
}

/* OomScoreAdj below the engine's own needs CAP_SYS_RESOURCE, which a sandboxed engine may
 * lack: then it is refused before any runtime sees it. */
static void
test_engine_spec_generate_oom_score_below_own(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *spec = NULL;
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long eff = 0;
    int self = 0;

    (void)state;
    while (f && fgets(line, sizeof(line), f))
        sscanf(line, "CapEff: %llx", &eff);
    if (f)
        fclose(f);
    f = fopen("/proc/self/oom_score_adj", "re");
    if (!f || fscanf(f, "%d", &self) != 1)
        self = 0;
    if (f)
        fclose(f);
    if ((eff >> 24) & 1 || self <= -1000)
        skip(); /* CAP_SYS_RESOURCE held: lowering is allowed */
    cleanup_free char *body = xasprintf("{'Cmd':['x'],'HostConfig':{'OomScoreAdj':%d}}", self - 1);
    assert_int_equal(generate(body, NULL, NULL, &spec, &err), -1);
    assert_int_equal(err.code, EINVAL);
    cleanup_free char *want = xasprintf("HostConfig.OomScoreAdj: %d is below the engine's own "
                                        "oom_score_adj %d, which it may not lower",
                                        self - 1, self);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_spec_generate_command),
        cmocka_unit_test(test_engine_spec_generate_env),
        cmocka_unit_test(test_engine_spec_generate_user),
        cmocka_unit_test(test_engine_spec_generate_user_in_root),
        cmocka_unit_test(test_engine_spec_generate_mounts),
        cmocka_unit_test(test_engine_spec_generate_resources),
        cmocka_unit_test(test_engine_spec_generate_security),
        cmocka_unit_test(test_engine_spec_generate_errors),
        cmocka_unit_test(test_engine_spec_generate_no_callbacks),
        cmocka_unit_test(test_engine_spec_generate_seccomp_file),
        cmocka_unit_test(test_engine_spec_generate_oom_score_below_own),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
