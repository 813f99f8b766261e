// ZeroMQ (Debian's libzmq3-dev). Only the Jupyter target imports this module.
#include <zmq.h>
