"""The pydantic request and response models shared by routes and pages, and the bounded input types they use."""
