# Drives the Lunette kernel with Jupyter's own client (jupyter_client) and prints what came
# back as one JSON report; KernelTests asserts on it. Usage: kernel_session.py FIXTURES SCRATCH
# (JUPYTER_PATH must lead to the installed kernelspec).
import json
import sys
import time

import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

fixtures, scratch = sys.argv[1], sys.argv[2]
report = {}
km = KernelManager(kernel_name="lunette")
km.start_kernel(cwd=scratch)
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=60)


def drain_iopub():
    while True:
        try:
            kc.get_iopub_msg(timeout=0.3)
        except Exception:
            return


def collect(msg_id, timeout=60):
    """The iopub messages of one request, up to its idle status, as [type, content]."""
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        entry = [m["msg_type"], m["content"]]
        if m["msg_type"] in ("display_data", "update_display_data"):
            entry.append(m["content"].get("transient", {}))
        out.append(entry)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return out
    raise RuntimeError("no idle status for %s" % msg_id)


def reply_to(msg_id, channel=None, timeout=60):
    channel = channel or kc.shell_channel
    while True:
        m = channel.get_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def execute(code, **kw):
    msg_id = kc.execute(code, **kw)
    iopub = collect(msg_id)
    return {"iopub": iopub, "reply": reply_to(msg_id)["content"]}


drain_iopub()
info_id = kc.kernel_info()
info = reply_to(info_id)
report["kernel_info"] = info["content"]

# An interrupt while the kernel waits is counted, never fatal.
km.interrupt_kernel()
time.sleep(0.5)
report["idle_interrupt_alive"] = km.is_alive()
report["one_plus_one"] = execute("1 + 1")
report["mixed"] = execute(
    'print("hello")\n'
    'io.stderr:write("careful\\n")\n'
    'display(require("cv").new_image(6, 4))\n'
    'error("the cell failed")\n'
)
report["after_error"] = execute('x = 40 + 2\nx')
report["silent"] = execute('print("not shown") return 7', silent=True)
report["no_history"] = execute('"kept out of history"', store_history=False)
report["expressions"] = execute("y = 5", user_expressions={"twice": "y * 2", "bad": "y +"})
report["help_entry"] = execute("?d2.engine.DefaultPredictor")

# Completion, help, completeness.
def shell_request(send):
    msg_id = send()
    return reply_to(msg_id)["content"]

report["complete_engine"] = shell_request(lambda: kc.complete("d2.eng", 6))
report["complete_global"] = shell_request(lambda: kc.complete("local n = tonu", 14))
report["complete_cfg"] = (execute("cfg = d2.config.get_cfg()"), shell_request(lambda: kc.complete("cfg.SOLVER.BASE_L", 17)))[1]
report["complete_method"] = (execute('t = require("torch").zeros(2)'), shell_request(lambda: kc.complete("t:si", 4)))[1]
report["complete_middle"] = shell_request(lambda: kc.complete("d2.engine.Defau + 1", 15))
report["inspect"] = shell_request(lambda: kc.inspect("p = d2.engine.DefaultPredictor(cfg)", 20))
report["inspect_nothing"] = shell_request(lambda: kc.inspect("  ", 1))
report["is_complete"] = {
    code: shell_request(lambda code=code: kc.is_complete(code))
    for code in ["function f()", "x = 1", "x = = 1", "for i = 1, 3 do\n  if i > 1 then", "s = [[open", "1 +"]
}
report["comm_info"] = shell_request(lambda: kc.comm_info())
report["history"] = shell_request(lambda: kc.history(hist_access_type="tail", n=2))

# Input from the front end.
msg_id = kc.execute('name = io.read()\nn = io.read("n")\nprint(name, n, math.type(n))', allow_stdin=True)
answers = ["Ada Lovelace", "42"]
requests = []
while answers:
    m = kc.stdin_channel.get_msg(timeout=30)
    requests.append([m["msg_type"], m["parent_header"].get("msg_id") == msg_id])
    kc.input(answers.pop(0))
report["input"] = {"requests": requests, "iopub": collect(msg_id), "reply": reply_to(msg_id)["content"]}
report["input_refused"] = execute("io.read()", allow_stdin=False)

def with_input(code, answers):
    msg_id = kc.execute(code, allow_stdin=True)
    asked = 0
    while answers:
        m = kc.stdin_channel.get_msg(timeout=30)
        asked += m["msg_type"] == "input_request"
        kc.input(answers.pop(0))
    return {"asked": asked, "iopub": collect(msg_id), "reply": reply_to(msg_id)["content"]}

# What one cell left unread is not the next cell's input: the next read asks again.
report["input_leftover"] = [with_input("io.read(2)", ["hello"]), with_input("io.read()", ["world"])]

# Interrupts: a Lua loop, then training (Swift code) stopped at its next iteration.
msg_id = kc.execute("while true do end")
time.sleep(1.0)
km.interrupt_kernel()
report["interrupt_loop"] = {"reply": reply_to(msg_id, timeout=30)["content"], "iopub": collect(msg_id)}
report["after_interrupt"] = execute("1 + 2")

train = (
    'd2.data.datasets.register_coco_instances("fx", {}, "%s/data/annotations/instances_train.json", "%s/data/train")\n'
    'local cfg = d2.config.get_cfg()\ncfg:merge_from_file("%s/trained/config.yaml")\n'
    'cfg.DATASETS.TRAIN = { "fx" }; cfg.DATASETS.TEST = {}; cfg.SOLVER.MAX_ITER = 100000\n'
    'cfg.OUTPUT_DIR = "%s/run"; cfg.DATALOADER.NUM_WORKERS = 0\n'
    'trainer = d2.engine.DefaultTrainer(cfg)\ntrainer:resume_or_load{ resume = false }\ntrainer:train()\n'
) % (fixtures, fixtures, fixtures, scratch)
msg_id = kc.execute(train)
seen = []
deadline = time.time() + 120
while time.time() < deadline:
    m = kc.get_iopub_msg(timeout=120)
    if m["parent_header"].get("msg_id") != msg_id:
        continue
    seen.append([m["msg_type"], m["content"], m["content"].get("transient", {})])
    if m["msg_type"] == "update_display_data":
        break
km.interrupt_kernel()
rest = collect(msg_id, timeout=120)
report["interrupt_training"] = {"iopub": seen + rest, "reply": reply_to(msg_id, timeout=60)["content"]}
report["after_training"] = execute("trainer.iter >= 1")

# Messages the kernel must not take: a wrong key, a replay of a good message.
ctx = zmq.Context.instance()
def raw_shell():
    s = ctx.socket(zmq.DEALER)
    s.connect("%s://%s:%d" % (km.transport, km.ip, km.shell_port))
    return s

wrong = Session(key=b"not-the-key", username="intruder")
sock = raw_shell()
bad = wrong.msg("execute_request", {"code": "marker = 'ran'", "silent": False, "store_history": True,
                                     "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
wrong.send(sock, bad)
report["wrong_key_reply"] = bool(sock.poll(2000))
report["wrong_key_effect"] = execute("marker")

good = Session(key=km.session.key, username="replayer")
msg = good.msg("execute_request", {"code": "counter = (counter or 0) + 1", "silent": False, "store_history": True,
                                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
frames = good.serialize(msg)
sock.send_multipart(frames)
first = bool(sock.poll(10000))
if first:
    sock.recv_multipart()
sock.send_multipart(frames)
second = bool(sock.poll(2000))
report["replay"] = {"first_reply": first, "second_reply": second, "effect": execute("counter")}
sock.close(0)

# Restart: a new process, a fresh state, counts from 1.
km.restart_kernel(now=False)
kc.wait_for_ready(timeout=60)
drain_iopub()
report["after_restart"] = execute("x == nil")

kc.stop_channels()
km.shutdown_kernel(now=False)
report["shutdown_clean"] = not km.is_alive()
print(json.dumps(report))
