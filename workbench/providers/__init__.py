"""Video providers: one async interface for local generators and hosted APIs."""
