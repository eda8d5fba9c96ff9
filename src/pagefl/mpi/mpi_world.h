// The MPI job this process is one rank of: Open MPI's point-to-point and broadcast calls on byte
// strings, with every size checked before anything is allocated. One thread at a time calls MPI.
#pragma once

#include <cstdint>
#include <string>

namespace pagefl::mpi {

// Whether mpirun (or another MPI launcher) started this process: only then is MPI initialised,
// so that a plain `pagefl run` pays nothing for it.
bool launchedByMpirun();

class MpiWorld {
 public:
  MpiWorld(int& argc, char**& argv);
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Root's `bytes` to every rank (in place on the others).
  void broadcast(std::string& bytes, int root = 0) const;
  void send(const std::string& bytes, int to, int tag) const;
  // The next message of `tag` from `from`; throws pagefl::Error when it is larger than `max_bytes`.
  std::string receive(int from, int tag, std::int64_t max_bytes) const;
  // Ends every rank of the job at once, with `code`: a failed rank must not leave the others
  // waiting for it.
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace pagefl::mpi
