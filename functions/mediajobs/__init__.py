"""Media jobs: long-running media work on Firebase, with state in Firestore documents."""
