//! A stand-in for a worker whose engine is already compromised: it jails
//! itself exactly as an isola worker does, then carries out whatever
//! action the test names and answers with the result. Built for the jail
//! crate's own tests only; the `isola` binary contains none of this.

fn main() {
    let Some(invocation) = isola_jail::worker_invocation() else {
        eprintln!("run by the isola-jail tests only");
        std::process::exit(2);
    };
    let mut channel = invocation.enter();
    while let Ok(frame) = channel.recv(None, 1 << 20) {
        let answer = isola_jail::probe::act(&String::from_utf8_lossy(&frame));
        if channel.send(answer.as_bytes()).is_err() {
            break;
        }
    }
}
