// Clang thread-safety annotations and a mutex that carries them. Built with
// the `clang` preset (-Wthread-safety -Werror), a member read without its
// mutex, or a function called without the lock it REQUIRES, fails to compile.
// With other compilers the macros expand to nothing.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define LO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LO_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LO_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LO_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LO_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LO_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) LO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) LO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS LO_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace liveorigin {

// std::mutex with annotations. Not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and std::unique_lock.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace liveorigin
