//! One file per rpc: the service's own code. rzeroctl creates the file of an rpc that is
//! new and never touches an existing one; this list follows the proto.
